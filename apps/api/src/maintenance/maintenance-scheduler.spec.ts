import { failureProbability, normalCdf } from './failure-risk';
import { proposeSchedule, type JobInput, type LpSolver, type ScheduleProblem } from './maintenance-scheduler';

const H = 3_600_000;
const T0 = Date.parse('2026-12-07T00:00:00Z');
let highs: LpSolver;

beforeAll(async () => {
  const loadHighs = (await import('highs')).default as unknown as () => Promise<LpSolver>;
  highs = await loadHighs();
});

/** A seeded generator for reproducible random cases. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

function job(id: string, machineId: string, plantId: string, overrides: Partial<JobInput> = {}): JobInput {
  return {
    workOrderId: id,
    machineId,
    plantId,
    durationMinutes: 120,
    failureCost: 10_000,
    downtimeCostPerHour: 50,
    rul: { p10: 10, p50: 30, p90: 80 },
    ...overrides,
  };
}

/** Cost of one placement, computed independently of the scheduler (same model, written out). */
function placementCost(p: ScheduleProblem, j: JobInput, start: number, overtime: boolean) {
  const hours = j.durationMinutes / 60;
  return (
    failureProbability(j.rul, (start - p.horizon.start) / H) * j.failureCost +
    hours * j.downtimeCostPerHour +
    (overtime ? hours * p.overtimeCostPerHour : 0)
  );
}

/** Enumerates every assignment (defer, or any crew and slot) and returns the cheapest valid cost. */
function bruteForce(p: ScheduleProblem): number {
  const slot = p.slotMinutes * 60_000;
  const nSlots = (p.horizon.end - p.horizon.start) / slot;
  const options = p.jobs.map((j) => {
    const len = Math.ceil(j.durationMinutes / p.slotMinutes);
    const hoursToEnd = (p.horizon.end - p.horizon.start) / H;
    const opts: { crew: number; from: number; to: number; cost: number }[] = [];
    if (!(j.dueBy && j.dueBy <= p.horizon.end))
      opts.push({ crew: -1, from: 0, to: 0, cost: failureProbability(j.rul, hoursToEnd) * j.failureCost });
    p.crews.forEach((crew, c) => {
      for (let s = 0; s + len <= nSlots; s++) {
        const from = p.horizon.start + s * slot;
        const to = from + len * slot;
        if (j.dueBy && to > j.dueBy) continue;
        if (!(p.windows[j.plantId] ?? []).some((w) => w.start <= from && to <= w.end)) continue;
        const shift = crew.shifts.find((sh) => sh.start <= from && to <= sh.end);
        if (shift) opts.push({ crew: c, from, to, cost: placementCost(p, j, from, !!shift.overtime) });
      }
    });
    return opts;
  });
  let best = Infinity;
  const pick: { crew: number; from: number; to: number; machine: string }[] = [];
  const rec = (i: number, cost: number) => {
    if (cost >= best) return;
    if (i === p.jobs.length) return void (best = cost);
    for (const o of options[i]) {
      if (
        o.crew >= 0 &&
        pick.some(
          (q) =>
            q.crew >= 0 && q.from < o.to && o.from < q.to && (q.crew === o.crew || q.machine === p.jobs[i].machineId),
        )
      )
        continue;
      pick.push({ ...o, machine: p.jobs[i].machineId });
      rec(i + 1, cost + o.cost);
      pick.pop();
    }
  };
  rec(0, 0);
  return best;
}

function checkValid(p: ScheduleProblem, result: ReturnType<typeof proposeSchedule>) {
  if (result.status === 'infeasible') throw new Error(result.reason);
  const a = result.assignments;
  for (const x of a) {
    const crew = p.crews.find((c) => c.id === x.crewId)!;
    expect(crew.shifts.some((s) => s.start <= x.start && x.end <= s.end)).toBe(true);
    expect((p.windows[x.plantId] ?? []).some((w) => w.start <= x.start && x.end <= w.end)).toBe(true);
  }
  for (let i = 0; i < a.length; i++)
    for (let k = i + 1; k < a.length; k++) {
      const overlap = a[i].start < a[k].end && a[k].start < a[i].end;
      if (overlap) {
        expect(a[i].crewId).not.toBe(a[k].crewId); // no crew double-booked
        expect(a[i].machineId).not.toBe(a[k].machineId);
      }
    }
  expect(a.length + result.deferred.length).toBe(p.jobs.length);
}

describe('failure risk', () => {
  it('fits the RUL quantiles', () => {
    const rul = { p10: 10, p50: 30, p90: 90 };
    expect(failureProbability(rul, 30)).toBeCloseTo(0.5, 6);
    expect(failureProbability(rul, 10)).toBeCloseTo(0.1, 2);
    expect(failureProbability(rul, 90)).toBeCloseTo(0.9, 2);
    expect(failureProbability(null, 100)).toBe(0);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
  });
});

describe('proposeSchedule', () => {
  it('finds the enumerated optimum on small cases', () => {
    const random = rng(7);
    for (let trial = 0; trial < 6; trial++) {
      const p: ScheduleProblem = {
        horizon: { start: T0, end: T0 + 12 * H },
        slotMinutes: 60,
        overtimeCostPerHour: 80,
        crews: [
          {
            id: 'A',
            shifts: [
              { start: T0, end: T0 + 8 * H },
              { start: T0 + 8 * H, end: T0 + 12 * H, overtime: true },
            ],
          },
          { id: 'B', shifts: [{ start: T0 + 2 * H, end: T0 + 10 * H }] },
        ],
        windows: { p1: [{ start: T0, end: T0 + 6 * H }], p2: [{ start: T0 + 3 * H, end: T0 + 12 * H }] },
        jobs: Array.from({ length: 4 }, (_, i) =>
          job(`wo${i}`, `m${i % 3}`, i % 2 ? 'p2' : 'p1', {
            durationMinutes: 60 * (1 + Math.floor(random() * 3)),
            failureCost: 2000 + Math.floor(random() * 20_000),
            rul: { p10: 1 + random() * 5, p50: 6 + random() * 10, p90: 20 + random() * 40 },
          }),
        ),
      };
      const result = proposeSchedule(p, highs);
      checkValid(p, result);
      expect(result.status).toBe('optimal');
      if (result.status !== 'infeasible') expect(result.objective).toBeCloseTo(bruteForce(p), 4);
    }
  });

  it('does the risky machine at once and defers the healthy one whose downtime outweighs its risk', () => {
    const p: ScheduleProblem = {
      horizon: { start: T0, end: T0 + 4 * H },
      slotMinutes: 60,
      overtimeCostPerHour: 0,
      crews: [{ id: 'A', shifts: [{ start: T0, end: T0 + 4 * H }] }],
      windows: { p: [{ start: T0, end: T0 + 4 * H }] },
      jobs: [
        job('safe', 'm1', 'p', { durationMinutes: 120, rul: { p10: 500, p50: 1000, p90: 2000 } }),
        job('risky', 'm2', 'p', { durationMinutes: 120, rul: { p10: 0.5, p50: 2, p90: 6 } }),
      ],
    };
    const result = proposeSchedule(p, highs);
    if (result.status === 'infeasible') throw new Error(result.reason);
    expect(result.assignments.map((a) => [a.workOrderId, a.start])).toEqual([['risky', T0]]);
    expect(result.deferred).toEqual([
      expect.objectContaining({ workOrderId: 'safe', reason: 'cheaper to defer than to do within the horizon' }),
    ]);
  });

  it('never double-books a crew or leaves a window on larger random cases', () => {
    const random = rng(42);
    for (let trial = 0; trial < 3; trial++) {
      const p: ScheduleProblem = {
        horizon: { start: T0, end: T0 + 48 * H },
        slotMinutes: 60,
        overtimeCostPerHour: 100,
        crews: ['A', 'B', 'C'].map((id, c) => ({
          id,
          shifts: [0, 24].map((d) => ({ start: T0 + (d + 6 + c * 2) * H, end: T0 + (d + 14 + c * 2) * H })),
        })),
        windows: { p1: [{ start: T0, end: T0 + 48 * H }], p2: [{ start: T0 + 20 * H, end: T0 + 40 * H }] },
        jobs: Array.from({ length: 15 }, (_, i) =>
          job(`wo${i}`, `m${i % 8}`, i % 3 ? 'p1' : 'p2', {
            durationMinutes: 60 + Math.floor(random() * 4) * 60,
            rul: { p10: 2 + random() * 20, p50: 30 + random() * 40, p90: 100 + random() * 100 },
          }),
        ),
      };
      checkValid(p, proposeSchedule(p, highs));
    }
  });

  it('reports clearly when a due work order cannot be placed', () => {
    const p: ScheduleProblem = {
      horizon: { start: T0, end: T0 + 24 * H },
      slotMinutes: 60,
      overtimeCostPerHour: 0,
      crews: [{ id: 'A', shifts: [{ start: T0 + 8 * H, end: T0 + 16 * H }] }],
      windows: { p: [{ start: T0, end: T0 + 6 * H }] },
      jobs: [job('urgent', 'm1', 'p', { dueBy: T0 + 20 * H })],
    };
    const result = proposeSchedule(p, highs);
    expect(result.status).toBe('infeasible');
    if (result.status === 'infeasible')
      expect(result.reason).toMatch(/work order urgent .* fits no crew shift inside plant p's maintenance windows/);
  });

  it('reports infeasibility when due jobs exceed crew capacity', () => {
    const p: ScheduleProblem = {
      horizon: { start: T0, end: T0 + 4 * H },
      slotMinutes: 60,
      overtimeCostPerHour: 0,
      crews: [{ id: 'A', shifts: [{ start: T0, end: T0 + 4 * H }] }],
      windows: { p: [{ start: T0, end: T0 + 4 * H }] },
      jobs: [
        job('a', 'm1', 'p', { durationMinutes: 180, dueBy: T0 + 4 * H }),
        job('b', 'm2', 'p', { durationMinutes: 180, dueBy: T0 + 4 * H }),
      ],
    };
    const result = proposeSchedule(p, highs);
    expect(result.status).toBe('infeasible');
    if (result.status === 'infeasible') expect(result.reason).toContain('cannot all be placed');
  });
});
