import { BadRequestException, ConflictException, Injectable, UnprocessableEntityException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MachinesRepository, WorkOrdersRepository, type WorkOrderEntity } from '@continuum/persistence';
import { canSeePlant, type Principal } from '../auth/principal';
import type { AcceptScheduleDto, ScheduleRequestDto } from './dto/schedule.dto';
import { proposeSchedule, type CrewInput, type JobInput, type LpSolver, type Period } from './maintenance-scheduler';

const MAX_HORIZON_MS = 31 * 86_400_000;

/** Backlog cost of deferring a requested work order past the horizon, by priority. */
export const DEFERRAL_PENALTY = { low: 200, medium: 1_000, high: 5_000, urgent: 25_000 } as const;

/** Builds scheduling problems from the database and a request, and applies accepted schedules. */
@Injectable()
export class MaintenanceService {
  private solver: Promise<LpSolver> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly machines: MachinesRepository,
    private readonly orders: WorkOrdersRepository,
  ) {}

  async propose(principal: Principal, req: ScheduleRequestDto) {
    const horizon = { start: req.horizon.start.getTime(), end: req.horizon.end.getTime() };
    if (horizon.end <= horizon.start) throw new BadRequestException('horizon.end must be after horizon.start');
    if (horizon.end - horizon.start > MAX_HORIZON_MS)
      throw new BadRequestException('the horizon may span at most 31 days');
    const plants = new Set(req.plantIds ?? (await this.machines.list()).map((m) => m.plantId));
    for (const plantId of plants)
      if (!canSeePlant(principal, plantId))
        throw new BadRequestException(`this API key has no access to plant ${plantId}`);
    const machines = (await this.machines.list()).filter((m) => plants.has(m.plantId));
    const byId = new Map(machines.map((m) => [m.id, m]));
    const options = req.options ?? {};
    const risks = new Map((req.machines ?? []).map((r) => [r.machineId, r]));
    for (const id of risks.keys())
      if (!byId.has(id)) throw new BadRequestException(`machine ${id} is not registered in the requested plants`);

    const open = (await this.orders.page({ machineIds: [...byId.keys()], statuses: ['draft', 'open'] }, 5000, 0)).items;
    const jobFor = (machineId: string, order: WorkOrderEntity | null): JobInput => {
      const risk = risks.get(machineId);
      return {
        workOrderId: order?.id ?? null,
        machineId,
        plantId: byId.get(machineId)!.plantId,
        durationMinutes: order?.estimatedMinutes ?? risk?.estimatedMinutes ?? 120,
        failureCost: risk?.failureCost ?? options.defaultFailureCost ?? 10_000,
        downtimeCostPerHour: risk?.downtimeCostPerHour ?? options.defaultDowntimeCostPerHour ?? 100,
        rul: risk?.rulHours ?? null,
        dueBy: order?.dueBy?.getTime() ?? null,
        // Requested work left undone costs by its priority; a machine merely at risk costs its risk.
        deferralPenalty: order ? DEFERRAL_PENALTY[order.priority] : 0,
      };
    };
    const jobs = open.map((o) => jobFor(o.machineId, o));
    for (const id of risks.keys()) if (!open.some((o) => o.machineId === id)) jobs.push(jobFor(id, null));
    if (jobs.length === 0)
      throw new UnprocessableEntityException(
        'nothing to schedule: no open work orders and no machines at risk in the requested plants',
      );

    // Crews already booked by scheduled work orders are not free then.
    const booked = await this.orders.bookedBetween(new Date(horizon.start), new Date(horizon.end));
    const crews: CrewInput[] = req.crews.map((c) => ({
      id: c.id,
      shifts: c.shifts.flatMap((s) =>
        subtract(
          { start: s.start.getTime(), end: s.end.getTime() },
          booked
            .filter((b) => b.crew === c.id)
            .map((b) => ({ start: b.windowStart!.getTime(), end: b.windowEnd!.getTime() })),
        ).map((p) => ({ ...p, overtime: s.overtime })),
      ),
    }));
    const windows: Record<string, Period[]> = {};
    for (const w of req.windows) (windows[w.plantId] ??= []).push({ start: w.start.getTime(), end: w.end.getTime() });

    const result = proposeSchedule(
      {
        horizon,
        slotMinutes: req.slotMinutes ?? 60,
        crews,
        windows,
        jobs,
        overtimeCostPerHour: options.overtimeCostPerHour ?? 50,
        timeLimitSeconds: options.timeLimitSeconds,
      },
      await this.loadSolver(),
    );
    if (result.status === 'infeasible')
      throw new UnprocessableEntityException(`no feasible schedule: ${result.reason}`);
    const iso = (ms: number) => new Date(ms).toISOString();
    return { ...result, assignments: result.assignments.map((a) => ({ ...a, start: iso(a.start), end: iso(a.end) })) };
  }

  /**
   * Schedules the work orders of an accepted proposal (creating work orders for machines that had
   * none), in one transaction. Refuses assignments that overlap each other or existing bookings.
   */
  async accept(principal: Principal, dto: AcceptScheduleDto): Promise<WorkOrderEntity[]> {
    const items = dto.assignments.map((a) => ({ ...a, from: a.start.getTime(), to: a.end.getTime() }));
    for (const a of items) {
      if (a.to <= a.from) throw new BadRequestException(`assignment for ${a.machineId}: end must be after start`);
      const machine = await this.machines.findById(a.machineId);
      // Another plant's machine reads like a missing one (no probing of ids).
      if (!machine || !canSeePlant(principal, machine.plantId))
        throw new BadRequestException(`machine ${a.machineId} does not exist`);
    }
    for (let i = 0; i < items.length; i++)
      for (let k = i + 1; k < items.length; k++)
        if (items[i].crewId === items[k].crewId && items[i].from < items[k].to && items[k].from < items[i].to)
          throw new ConflictException(
            `crew ${items[i].crewId} is booked twice between ${items[k].start.toISOString()} and ${items[i].end.toISOString()}`,
          );
    const from = new Date(Math.min(...items.map((a) => a.from)));
    const to = new Date(Math.max(...items.map((a) => a.to)));
    const existing = await this.orders.bookedBetween(from, to);
    for (const a of items) {
      const clash = existing.find(
        (b) =>
          b.crew === a.crewId &&
          b.id !== a.workOrderId &&
          b.windowStart!.getTime() < a.to &&
          a.from < b.windowEnd!.getTime(),
      );
      if (clash) throw new ConflictException(`crew ${a.crewId} is already booked for work order ${clash.id} then`);
    }
    const orders = await this.orders.findByIds(items.flatMap((a) => (a.workOrderId ? [a.workOrderId] : [])));
    for (const a of items) {
      if (!a.workOrderId) continue;
      const order = orders.find((o) => o.id === a.workOrderId);
      if (!order) throw new BadRequestException(`work order ${a.workOrderId} does not exist`);
      if (order.machineId !== a.machineId)
        throw new BadRequestException(
          `work order ${a.workOrderId} is for machine ${order.machineId}, not ${a.machineId}`,
        );
      if (!['draft', 'open', 'scheduled'].includes(order.status))
        throw new ConflictException(`work order ${a.workOrderId} is ${order.status}`);
    }
    return this.dataSource.transaction(async (manager) => {
      const out: WorkOrderEntity[] = [];
      for (const a of items) {
        const schedule = { status: 'scheduled' as const, windowStart: a.start, windowEnd: a.end, crew: a.crewId };
        if (a.workOrderId) {
          await this.orders.update(a.workOrderId, schedule, manager);
          out.push({ ...orders.find((o) => o.id === a.workOrderId)!, ...schedule });
        } else {
          out.push(
            await this.orders.create(
              {
                machineId: a.machineId,
                title: 'Predictive maintenance',
                description: 'Created by an accepted maintenance schedule',
                estimatedMinutes: Math.round((a.to - a.from) / 60_000),
                ...schedule,
              },
              manager,
            ),
          );
        }
      }
      return out;
    });
  }

  private loadSolver(): Promise<LpSolver> {
    // highs compiles HiGHS to WebAssembly; load it once, on first use.
    this.solver ??= import('highs').then((m) => (m.default as unknown as () => Promise<LpSolver>)());
    return this.solver;
  }
}

/** `period` minus the `holes`, as disjoint periods. */
export function subtract(period: Period, holes: Period[]): Period[] {
  let parts = [period];
  for (const h of holes) {
    parts = parts.flatMap((p) => {
      if (h.end <= p.start || h.start >= p.end) return [p];
      return [
        ...(h.start > p.start ? [{ start: p.start, end: h.start }] : []),
        ...(h.end < p.end ? [{ start: h.end, end: p.end }] : []),
      ];
    });
  }
  return parts;
}
