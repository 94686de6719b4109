import { decodeSparkplug } from '../protocols/sparkplug.encoder';
import { parseFaultPlan } from './faults';
import type { GroundTruthRecord } from './ground-truth';
import { DEFAULT_BEHAVIOUR } from './machine';
import { Plant, type OutgoingMessage, type PlantOptions } from './plant';

const DAY = 86400;

function run(options: Partial<PlantOptions>, days: number, step = 1800) {
  const plant = new Plant(options);
  const messages: OutgoingMessage[] = [];
  const truth: GroundTruthRecord[] = [];
  for (let t = 0; t < days * DAY; t += step) {
    const r = plant.step(step);
    messages.push(...r.messages);
    truth.push(...r.truth);
  }
  return { plant, messages, truth };
}

interface Reading {
  machineId: string;
  sensor: string;
  t: number;
  value: number;
}

/** Decodes what a subscriber would receive, as readings with simulated seconds. */
function decode(plant: Plant, messages: OutgoingMessage[]): Reading[] {
  const start = plant.options.startMs;
  const out: Reading[] = [];
  const aliases = new Map<string, string>();
  for (const m of messages) {
    if (m.kind === 'malformed') continue;
    if (m.topic.startsWith('spBv1.0/')) {
      const [, , type, node, device] = m.topic.split('/');
      const p = decodeSparkplug(m.payload);
      if (type === 'DBIRTH')
        for (const x of p.metrics ?? []) aliases.set(`${node}/${device}/${Number(x.alias)}`, x.name!);
      if (type !== 'DDATA') continue;
      for (const x of p.metrics ?? [])
        out.push({
          machineId: `${node}.${device}`,
          sensor: aliases.get(`${node}/${device}/${Number(x.alias)}`)!,
          t: (Number(x.timestamp) - start) / 1000,
          value: x.value as number,
        });
    } else {
      const machineId = m.topic.split('/')[3];
      const body = JSON.parse(m.payload.toString()) as { ts: number; values: Record<string, number> }[];
      for (const s of Array.isArray(body) ? body : [body])
        for (const [sensor, value] of Object.entries(s.values))
          out.push({ machineId, sensor, t: (s.ts - start) / 1000, value });
    }
  }
  return out;
}

const faults = parseFaultPlan(
  'random=1,pump-0001:vibration_rms:stuck@1d+6h,motor-0001:current:dead@1d+6h,compressor-0001:oil_temperature:step@12h+6h=5',
);

describe('Plant', () => {
  it('gives the same message stream for the same seed, and another one for another seed', () => {
    const options = { machines: 6, protocol: 'mixed' as const, faults, malformedRate: 0.02 };
    const a = run({ ...options, seed: 42 }, 1);
    const b = run({ ...options, seed: 42 }, 1);
    const c = run({ ...options, seed: 43 }, 1);
    expect(a.messages.length).toBeGreaterThan(10);
    expect(b.messages.map((m) => [m.topic, m.payload.toString('base64')])).toEqual(
      a.messages.map((m) => [m.topic, m.payload.toString('base64')]),
    );
    expect(b.truth).toEqual(a.truth);
    expect(c.messages.map((m) => m.payload.toString('base64'))).not.toEqual(
      a.messages.map((m) => m.payload.toString('base64')),
    );
  });

  it('publishes what the ground truth says: faults, failures, outages; counts within the drop rate', () => {
    const { plant, messages, truth } = run(
      {
        machines: 6,
        protocol: 'json',
        faults,
        seed: 3,
        behaviour: { ...DEFAULT_BEHAVIOUR, repairTime: 2 * DAY, sampleRateScale: 0.1 },
      },
      18,
      3600,
    );
    const readings = decode(plant, messages);
    const of = (id: string, sensor?: string) =>
      readings.filter((r) => r.machineId === id && (sensor === undefined || r.sensor === sensor));

    // Scheduled faults.
    const stuck = of('pump-0001', 'vibration_rms').filter((r) => r.t >= DAY && r.t < DAY + 6 * 3600);
    expect(stuck.length).toBeGreaterThan(4);
    expect(new Set(stuck.map((r) => r.value)).size).toBe(1);
    expect(of('motor-0001', 'current').filter((r) => r.t >= DAY && r.t < DAY + 6 * 3600)).toHaveLength(0);
    expect(
      of('motor-0001', 'current').filter((r) => r.t >= DAY + 6 * 3600 && r.t < DAY + 12 * 3600).length,
    ).toBeGreaterThan(10);
    for (const f of truth.filter((r) => r.type === 'fault' && r.kind === 'dead')) {
      const inside = of(f.machineId, f.sensor as string).filter(
        (r) => r.t >= (f.start as number) && r.t < (f.end as number),
      );
      expect(inside).toHaveLength(0);
    }

    // Failures: silence from the failure to the repair, and the machine speaks again afterwards.
    const failures = truth.filter((r) => r.type === 'failure');
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) {
      const repair = truth.find((r) => r.type === 'repair' && r.machineId === f.machineId && r.t! > f.t!);
      const until = repair?.t ?? Infinity;
      expect(of(f.machineId).filter((r) => r.t > f.t! && r.t < until)).toHaveLength(0);
      expect(f.wear as number).toBeCloseTo(1, 6);
    }
    for (const o of truth.filter((r) => r.type === 'outage'))
      expect(of(o.machineId).filter((r) => r.t >= (o.start as number) && r.t < (o.end as number))).toHaveLength(0);

    // Counts: every reading taken arrives once, minus losses, plus duplicates.
    const s = plant.stats;
    expect(readings.length).toBe(s.readings);
    const inFlight = s.generated - s.lost + s.duplicated - s.readings;
    expect(inFlight).toBeGreaterThanOrEqual(0);
    expect(inFlight).toBeLessThan(50);
    const dropped = s.lost / s.generated;
    expect(dropped).toBeGreaterThan(0.005);
    expect(dropped).toBeLessThan(0.05);

    // Irregular arrival: some readings of a machine arrive after later ones; some arrive twice.
    const outOfOrder = plant.machines.some((m) => {
      const ts = of(m.machineId).map((r) => r.t);
      return ts.some((t, i) => i > 0 && t < ts[i - 1]);
    });
    expect(outOfOrder).toBe(true);
    const keys = readings.map((r) => `${r.machineId}/${r.sensor}/${r.t}`);
    expect(new Set(keys).size).toBeLessThan(keys.length);
  });

  it('speaks Sparkplug B: NBIRTH then DBIRTH per device with units and thresholds, DDATA by alias, seq 0..255', () => {
    const { plant, messages } = run({ machines: 4, protocol: 'sparkplug', seed: 5 }, 1);
    expect(messages[0].topic).toBe('spBv1.0/plant-1/NBIRTH/cell-01');
    const nbirth = decodeSparkplug(messages[0].payload);
    expect(Number(nbirth.seq)).toBe(0);
    expect(nbirth.metrics!.map((m) => m.name)).toContain('bdSeq');
    const dbirth = decodeSparkplug(messages[1].payload);
    expect(messages[1].topic).toBe('spBv1.0/plant-1/DBIRTH/cell-01/pump-0001');
    const vib = dbirth.metrics!.find((m) => m.name === 'vibration_rms')!;
    expect(vib.properties).toMatchObject({ engUnit: { value: 'mm/s' }, failureAbove: { value: 7.1 } });
    const seqs = messages.map((m) => Number(decodeSparkplug(m.payload).seq));
    seqs.forEach((s, i) => expect(s).toBe(i % 256));
    expect(plant.clients()[0].will!.topic).toBe('spBv1.0/plant-1/NDEATH/cell-01');
    expect(decode(plant, messages).length).toBe(plant.stats.readings);
  });
});
