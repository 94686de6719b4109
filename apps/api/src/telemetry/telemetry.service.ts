import { BadRequestException, Injectable } from '@nestjs/common';
import { ReadingsRepository } from '@continuum/persistence';
import type { Principal } from '../auth/principal';
import { MachinesService } from '../machines/machines.service';
import { BUCKETS, type AggregateTelemetryQuery, type RawTelemetryQuery } from './dto/telemetry.dto';
import { lttb } from './lttb';

const MAX_RANGE_MS = 366 * 86_400_000;

/** Readings of a machine, raw (optionally downsampled for charts) or in time buckets. */
@Injectable()
export class TelemetryService {
  constructor(
    private readonly readings: ReadingsRepository,
    private readonly machines: MachinesService,
  ) {}

  async raw(principal: Principal, machineId: string, q: RawTelemetryQuery) {
    await this.machines.get(principal, machineId);
    this.checkRange(q.from, q.to);
    const rows = await this.readings.range({ machineId, sensor: q.sensor, from: q.from, to: q.to }, q.limit);
    const bySensor = new Map<string, { t: number[]; v: number[] }>();
    for (const r of rows) {
      let s = bySensor.get(r.sensor);
      if (!s) bySensor.set(r.sensor, (s = { t: [], v: [] }));
      s.t.push(r.time);
      s.v.push(r.value);
    }
    const series = [...bySensor].map(([sensor, s]) => {
      if (!q.points || s.t.length <= q.points) return { sensor, ...s };
      const keep = lttb(s.t, s.v, q.points);
      return { sensor, t: keep.map((i) => s.t[i]), v: keep.map((i) => s.v[i]) };
    });
    return { machineId, count: rows.length, truncated: rows.length === q.limit, series };
  }

  async aggregate(principal: Principal, machineId: string, q: AggregateTelemetryQuery) {
    await this.machines.get(principal, machineId);
    this.checkRange(q.from, q.to);
    const buckets = await this.readings.aggregate(
      { machineId, sensor: q.sensor, from: q.from, to: q.to },
      BUCKETS[q.bucket],
    );
    return {
      machineId,
      bucket: q.bucket,
      buckets: buckets.map(({ sensor, bucket, avg, min, max, count }) => ({ sensor, bucket, avg, min, max, count })),
    };
  }

  private checkRange(from: Date, to: Date): void {
    if (to.getTime() <= from.getTime()) throw new BadRequestException('to must be after from');
    if (to.getTime() - from.getTime() > MAX_RANGE_MS)
      throw new BadRequestException('the range may span at most 366 days');
  }
}
