import { failureProbability, type RulQuantiles } from './failure-risk';

/** A period of time, epoch milliseconds, [start, end). */
export interface Period {
  start: number;
  end: number;
}

export interface CrewInput {
  id: string;
  /** When the crew works; `overtime` shifts cost `overtimeCostPerHour` extra. */
  shifts: (Period & { overtime?: boolean })[];
}

/** One piece of maintenance to place: an open work order, or a machine at risk without one. */
export interface JobInput {
  /** Work order id, or null for a machine at risk that has no work order yet. */
  workOrderId: string | null;
  machineId: string;
  plantId: string;
  durationMinutes: number;
  /** Cost of a failure before the maintenance is done. */
  failureCost: number;
  /** Cost per hour of the machine being down for maintenance. */
  downtimeCostPerHour: number;
  /** Remaining useful life, in hours from the horizon's start; null when unknown. */
  rul: RulQuantiles | null;
  /** The work must be finished by then (hard constraint when within the horizon). */
  dueBy?: number | null;
  /** Cost of leaving the job undone past the horizon beyond its failure risk (a backlog penalty). */
  deferralPenalty?: number;
}

export interface ScheduleProblem {
  horizon: Period;
  slotMinutes: number;
  crews: CrewInput[];
  /** Maintenance windows per plant: work on a plant's machines happens only inside them. */
  windows: Record<string, Period[]>;
  jobs: JobInput[];
  overtimeCostPerHour: number;
  /** Wall-clock limit for the solver, seconds. */
  timeLimitSeconds?: number;
}

export interface Assignment {
  workOrderId: string | null;
  machineId: string;
  plantId: string;
  crewId: string;
  start: number;
  end: number;
  /** Expected cost of this choice: failure risk before `start`, downtime and overtime. */
  expectedCost: number;
  failureProbabilityBeforeStart: number;
}

export interface Deferral {
  workOrderId: string | null;
  machineId: string;
  /** Expected failure cost of leaving it beyond the horizon. */
  expectedCost: number;
  reason: string;
}

export type ScheduleResult =
  | {
      status: 'optimal' | 'feasible';
      objective: number;
      assignments: Assignment[];
      deferred: Deferral[];
      variables: number;
      solveMs: number;
    }
  | { status: 'infeasible'; reason: string; variables: number; solveMs: number };

/** The part of HiGHS the scheduler uses (`highs` package: `(await loadHighs()).solve`). */
export interface LpSolver {
  solve(
    lp: string,
    options?: Record<string, unknown>,
  ): { Status: string; ObjectiveValue: number; Columns: Record<string, { Primal: number }> };
}

export const MAX_VARIABLES = 150_000;

/**
 * Proposes a maintenance schedule minimising expected cost, as a mixed-integer linear programme
 * solved by HiGHS. With slots of `slotMinutes` over the horizon:
 *
 * - x[j,c,s] ∈ {0,1}: job j starts at slot s with crew c. Created only where every slot of the
 *   job lies inside one of crew c's shifts and one of the plant's windows, and the job ends by its
 *   due date; so crews never work outside their shifts nor machines outside their windows.
 * - d[j] ∈ {0,1}: job j is deferred beyond the horizon (not allowed when its due date falls in
 *   the horizon).
 * - Σ_{c,s} x[j,c,s] + d[j] = 1 for every job.
 * - Crew capacity: for every crew and slot, at most one job covers the slot (no double booking).
 * - One job at a time per machine: for every machine and slot, at most one of its jobs covers it.
 * - Minimise Σ x·(F_j(start) · failureCost_j + downtime_j + overtime) + Σ d_j · F_j(horizon end) ·
 *   failureCost_j + penalty_j, with F_j the failure probability from job j's RUL distribution and
 *   penalty_j the backlog cost of leaving requested work undone.
 *
 * @returns the optimal (or, at the time limit, best feasible) assignments, or `infeasible` with a
 *   reason naming what cannot be placed
 */
export function proposeSchedule(problem: ScheduleProblem, solver: LpSolver): ScheduleResult {
  const started = Date.now();
  const slotMs = problem.slotMinutes * 60_000;
  const nSlots = Math.floor((problem.horizon.end - problem.horizon.start) / slotMs);
  const slotStart = (s: number) => problem.horizon.start + s * slotMs;
  const inside = (periods: Period[], from: number, to: number) => periods.some((p) => p.start <= from && to <= p.end);

  interface Var {
    name: string;
    job: number;
    crew: number;
    slot: number;
    length: number;
    cost: number;
    risk: number;
  }
  const vars: Var[] = [];
  const deferCost: number[] = [];
  const mustPlace: boolean[] = [];
  const problems: string[] = [];
  problem.jobs.forEach((job, j) => {
    const length = Math.max(1, Math.ceil(job.durationMinutes / problem.slotMinutes));
    const windows = problem.windows[job.plantId] ?? [];
    const due = job.dueBy ?? null;
    mustPlace[j] = due !== null && due <= problem.horizon.end;
    const hoursToEnd = (problem.horizon.end - problem.horizon.start) / 3_600_000;
    deferCost[j] = failureProbability(job.rul, hoursToEnd) * job.failureCost + (job.deferralPenalty ?? 0);
    let placements = 0;
    problem.crews.forEach((crew, c) => {
      for (let s = 0; s + length <= nSlots; s++) {
        const from = slotStart(s);
        const to = slotStart(s + length);
        if (due !== null && to > due) break;
        if (!inside(windows, from, to)) continue;
        const shift = crew.shifts.find((p) => p.start <= from && to <= p.end);
        if (!shift) continue;
        const hours = (to - from) / 3_600_000;
        const risk = failureProbability(job.rul, (from - problem.horizon.start) / 3_600_000);
        const cost =
          risk * job.failureCost +
          hours * job.downtimeCostPerHour +
          (shift.overtime ? hours * problem.overtimeCostPerHour : 0);
        vars.push({ name: `x_${j}_${c}_${s}`, job: j, crew: c, slot: s, length, cost, risk });
        placements++;
      }
    });
    if (mustPlace[j] && placements === 0) {
      problems.push(
        `${job.workOrderId ? `work order ${job.workOrderId}` : `machine ${job.machineId}`} (${job.durationMinutes} min, due ${new Date(due!).toISOString()}) fits no crew shift inside plant ${job.plantId}'s maintenance windows before its due date`,
      );
    }
  });
  const variables = vars.length + problem.jobs.length;
  if (problems.length)
    return { status: 'infeasible', reason: problems.join('; '), variables, solveMs: Date.now() - started };
  if (variables > MAX_VARIABLES) {
    return {
      status: 'infeasible',
      reason: `the model would have ${variables} variables (limit ${MAX_VARIABLES}): use longer slots or a shorter horizon`,
      variables,
      solveMs: Date.now() - started,
    };
  }

  const lines: string[] = ['Minimize', ' obj:'];
  const term = (coef: number, name: string) => `${coef >= 0 ? '+' : '-'} ${Math.abs(coef).toPrecision(12)} ${name}`;
  for (const v of vars) lines.push(`  ${term(v.cost, v.name)}`);
  problem.jobs.forEach((_, j) => lines.push(`  ${term(deferCost[j], `d_${j}`)}`));
  lines.push('Subject To');
  const byJob = new Map<number, Var[]>();
  for (const v of vars) byJob.set(v.job, [...(byJob.get(v.job) ?? []), v]);
  problem.jobs.forEach((_, j) => {
    const names = (byJob.get(j) ?? []).map((v) => v.name);
    lines.push(` one_${j}: ${[...names, `d_${j}`].join(' + ')} = 1`);
  });
  // Coverage constraints: a variable covers slots slot..slot+length-1.
  const coverage = (key: (v: Var) => string | null, prefix: string) => {
    const cover = new Map<string, string[]>();
    for (const v of vars) {
      const k = key(v);
      if (k === null) continue;
      for (let t = v.slot; t < v.slot + v.length; t++) {
        const id = `${k}_${t}`;
        const list = cover.get(id);
        if (list) list.push(v.name);
        else cover.set(id, [v.name]);
      }
    }
    let i = 0;
    for (const names of cover.values()) if (names.length > 1) lines.push(` ${prefix}${i++}: ${names.join(' + ')} <= 1`);
  };
  coverage((v) => `c${v.crew}`, 'crew');
  const machineIds = problem.jobs.map((job) => job.machineId);
  coverage((v) => `m${machineIds.indexOf(problem.jobs[v.job].machineId)}`, 'machine');
  lines.push('Bounds');
  problem.jobs.forEach((_, j) => {
    if (mustPlace[j]) lines.push(` d_${j} = 0`);
  });
  lines.push('Binary');
  for (const v of vars) lines.push(` ${v.name}`);
  problem.jobs.forEach((_, j) => lines.push(` d_${j}`));
  lines.push('End');

  const solution = solver.solve(lines.join('\n'), {
    output_flag: false,
    time_limit: problem.timeLimitSeconds ?? 20,
    mip_rel_gap: 1e-6,
  });
  const solveMs = Date.now() - started;
  const hasSolution =
    solution.Status === 'Optimal' ||
    (solution.Status === 'Time limit reached' && solution.Columns && Object.keys(solution.Columns).length > 0);
  if (!hasSolution) {
    return {
      status: 'infeasible',
      reason: `HiGHS found no schedule (${solution.Status}): jobs due within the horizon cannot all be placed with the crews and windows given`,
      variables,
      solveMs,
    };
  }
  const chosen = (name: string) => (solution.Columns[name]?.Primal ?? 0) > 0.5;
  const assignments: Assignment[] = vars
    .filter((v) => chosen(v.name))
    .map((v) => {
      const job = problem.jobs[v.job];
      return {
        workOrderId: job.workOrderId,
        machineId: job.machineId,
        plantId: job.plantId,
        crewId: problem.crews[v.crew].id,
        start: slotStart(v.slot),
        end: slotStart(v.slot + v.length),
        expectedCost: v.cost,
        failureProbabilityBeforeStart: v.risk,
      };
    })
    .sort((a, b) => a.start - b.start || a.crewId.localeCompare(b.crewId));
  const deferred: Deferral[] = problem.jobs
    .map((job, j) => ({ job, j }))
    .filter(({ j }) => chosen(`d_${j}`))
    .map(({ job, j }) => ({
      workOrderId: job.workOrderId,
      machineId: job.machineId,
      expectedCost: deferCost[j],
      reason:
        (byJob.get(j) ?? []).length === 0
          ? 'no crew shift inside a maintenance window can take it'
          : 'cheaper to defer than to do within the horizon',
    }));
  return {
    status: solution.Status === 'Optimal' ? 'optimal' : 'feasible',
    objective: solution.ObjectiveValue,
    assignments,
    deferred,
    variables,
    solveMs,
  };
}
