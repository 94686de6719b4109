import * as fs from 'node:fs';
import * as path from 'node:path';
import { odeint, OdeError, DOPRI5, ExplicitRungeKutta, PIController } from '@continuum/ode';
import {
  ADAPTIVE_METHODS,
  EXPONENTIAL_DECAY,
  HARMONIC_OSCILLATOR,
  METHOD_ORDERS,
  PROBLEMS,
  logLogSlope,
  maxAbsDiff,
} from './testing/problems';

// Step counts per problem and order chosen so the errors are in the asymptotic regime (Euler on the
// oscillator, and tsit5 whose leading error term is unusually small, need small steps) and far above
// round-off (relative errors stay above ~5e-14). Errors are relative to max|y(T)|.
const CONVERGENCE = [
  {
    problem: EXPONENTIAL_DECAY,
    T: 10,
    steps: {
      1: [256, 512, 1024, 2048],
      2: [64, 128, 256, 512],
      3: [32, 64, 128, 256],
      4: [32, 64, 128, 256],
      5: [128, 256, 512, 1024],
    },
  },
  {
    problem: HARMONIC_OSCILLATOR,
    T: 2 * Math.PI,
    steps: {
      1: [256, 512, 1024, 2048],
      2: [32, 64, 128, 256],
      3: [16, 32, 64, 128],
      4: [16, 32, 64, 128],
      5: [32, 64, 128, 256],
    },
  },
] as const;

describe('convergence order (fixed steps, float64)', () => {
  describe.each(METHOD_ORDERS.map((m) => [m.method, m.order] as const))('%s', (method, order) => {
    it.each(CONVERGENCE.map((c) => [c.problem.name, c] as const))(
      'has order %s within 0.3',
      (_name, { problem, T, steps }) => {
        const Ns = steps[order as keyof typeof steps];
        const exact = problem.exact(T);
        const scale = Math.max(...exact.map(Math.abs));
        const errs = Ns.map((N) => {
          const r = odeint(problem.f, problem.y0, [problem.t0, T], { method, stepSize: T / N });
          expect(r.stats.accepted).toBe(N);
          return maxAbsDiff(r.ys[1], exact) / scale;
        });
        const slope = logLogSlope(
          Ns.map((N) => T / N),
          errs,
        );
        expect(Math.abs(slope - order)).toBeLessThan(0.3);
      },
    );
  });
});

interface ScipyRow {
  problem: string;
  rtol: number;
  atol: number;
  nfev: number;
  end_error: number;
}
const scipy: { results: ScipyRow[] } = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../../bench/reference/scipy_rk45.json'), 'utf8'),
);

describe('dopri5 against SciPy solve_ivp(RK45)', () => {
  const problems = { exponential_decay: EXPONENTIAL_DECAY, harmonic_oscillator: HARMONIC_OSCILLATOR };
  it.each(scipy.results.map((r) => [r.problem, r.rtol, r] as const))('%s at rtol %s', (name, rtol, ref) => {
    const p = problems[name as keyof typeof problems];
    const r = odeint(p.f, p.y0, [p.t0, p.t1], { rtol, atol: ref.atol });
    const err = maxAbsDiff(r.ys[1], p.exact(p.t1));
    // Global error of these non-expanding problems grows at most linearly in time: scale the
    // per-unit-time tolerance (atol + rtol·max|y|) by the interval length, allow 10x.
    expect(err).toBeLessThan(10 * (ref.atol + rtol * p.maxAbs) * (p.t1 - p.t0));
    // Same method, same controller: the end error must be within 10x of SciPy's either way.
    expect(err).toBeLessThan(10 * ref.end_error);
    expect(err).toBeGreaterThan(0.1 * ref.end_error);
    // Work: within 15% of SciPy's function evaluations.
    expect(Math.abs(r.stats.nfe / ref.nfev - 1)).toBeLessThanOrEqual(0.15);
    expect(r.stats.errorEstimate).toBeLessThanOrEqual(1);
    expect(r.stats.accepted + r.stats.rejected).toBe(r.stats.steps);
    expect(r.stats.njev).toBe(0);
    expect(r.stats.nlu).toBe(0);
  });
});

// A third-order method needs far more steps for the same tolerance: loosen it for bosh3 so the
// 20π oscillator stays within the default step budget.
const RTOL = { bosh3: 1e-6, dopri5: 1e-8, tsit5: 1e-8 } as const;

describe.each(ADAPTIVE_METHODS.map((m) => [m]))('adaptive %s', (method) => {
  const rtolDense = RTOL[method as keyof typeof RTOL];
  it.each(PROBLEMS.map((p) => [p.name, p] as const))(
    'dense output on %s matches the exact solution at 1000 interior points',
    (_n, p) => {
      const rtol = rtolDense;
      const atol = rtolDense * 1e-2;
      const ts = [p.t0, ...Array.from({ length: 1000 }, (_, i) => p.t0 + ((i + 0.5) / 1000) * (p.t1 - p.t0)), p.t1];
      const r = odeint(p.f, p.y0, ts, { method, rtol, atol });
      expect(r.ys).toHaveLength(ts.length);
      // Steps are not forced onto the 1002 output times: exactly the steps of a solve without them.
      expect(r.stats.accepted).toBe(odeint(p.f, p.y0, [p.t0, p.t1], { method, rtol, atol }).stats.accepted);
      let worst = 0;
      ts.forEach((t, i) => (worst = Math.max(worst, maxAbsDiff(r.ys[i], p.exact(t)))));
      // Same global-error scale as the SciPy test (tolerance per unit time × interval length); the
      // interpolant's error (order ≥ 3 at these step sizes) is far below it.
      expect(worst).toBeLessThan(10 * (atol + rtol * p.maxAbs) * (p.t1 - p.t0));
    },
  );

  it.each(PROBLEMS.map((p) => [p.name, p] as const))(
    'backward integration of %s reproduces the forward solution',
    (_n, p) => {
      const tsF = Array.from({ length: 11 }, (_, i) => p.t0 + (i / 10) * (p.t1 - p.t0));
      const rtol = rtolDense / 10;
      const fwd = odeint(p.f, p.y0, tsF, { method, rtol, atol: rtol * 1e-3 });
      const tsB = [...tsF].reverse();
      const bwd = odeint(p.f, fwd.ys[fwd.ys.length - 1], tsB, { method, rtol, atol: rtol * 1e-3 });
      expect(bwd.ts).toEqual(tsB);
      bwd.ys.forEach((y, i) => {
        const yf = fwd.ys[fwd.ys.length - 1 - i];
        // Forward and backward errors add up; 10x the per-unit-time tolerance times the interval.
        expect(maxAbsDiff(y, yf)).toBeLessThan(2 * 10 * rtol * p.maxAbs * (p.t1 - p.t0));
      });
    },
  );
});

describe('events', () => {
  // y = (sin t, cos t): the first component crosses zero at kπ.
  const f = (_t: number, y: Float64Array) => [y[1], -y[0]];

  it('finds every zero crossing of sin(t) to 1e-8', () => {
    const r = odeint(f, [0, 1], [0, 10], { rtol: 1e-10, atol: 1e-12, events: [{ fn: (_t, y) => y[0] }] });
    expect(r.events.map((e) => e.t)).toHaveLength(3);
    r.events.forEach((e, k) => {
      expect(Math.abs(e.t - (k + 1) * Math.PI)).toBeLessThan(1e-8);
      expect(Math.abs(e.y[0])).toBeLessThan(1e-8);
    });
    expect(r.terminated).toBe(false);
    expect(r.ts).toEqual([0, 10]);
  });

  it('respects direction and stops at a terminal event', () => {
    const rising = odeint(f, [0, 1], [0, 10], {
      rtol: 1e-10,
      atol: 1e-12,
      events: [{ fn: (_t, y) => y[0], direction: 1 }],
    });
    expect(rising.events.map((e) => Math.round(e.t / Math.PI))).toEqual([2]);
    const ts = [0, 1, 2, 3, 4, 5];
    const stop = odeint(f, [0, 1], ts, {
      rtol: 1e-10,
      atol: 1e-12,
      events: [{ fn: (_t, y) => y[0], direction: -1, terminal: true }],
    });
    expect(stop.terminated).toBe(true);
    expect(Math.abs(stop.events[0].t - Math.PI)).toBeLessThan(1e-8);
    expect(stop.ts).toEqual([0, 1, 2, 3]);
    expect(stop.ys).toHaveLength(4);
  });

  it('locates events with fixed-step methods via Hermite dense output', () => {
    const r = odeint(f, [0, 1], [0, 4], { method: 'rk4', stepSize: 0.01, events: [{ fn: (_t, y) => y[0] }] });
    // RK4 with h = 0.01 has global error ~1e-9; the cubic Hermite interpolant adds O(h^4) ~ 1e-9.
    expect(Math.abs(r.events[0].t - Math.PI)).toBeLessThan(1e-7);
  });
});

describe('options', () => {
  it('accepts per-component atol', () => {
    const r = odeint(HARMONIC_OSCILLATOR.f, [1, 0], [0, 1], { rtol: 1e-6, atol: [1e-9, 1e-9] });
    expect(maxAbsDiff(r.ys[1], HARMONIC_OSCILLATOR.exact(1))).toBeLessThan(1e-5);
    expect(() => odeint(HARMONIC_OSCILLATOR.f, [1, 0], [0, 1], { atol: [1e-9] })).toThrow(OdeError);
  });

  it('honours maxStep and firstStep', () => {
    const r = odeint(EXPONENTIAL_DECAY.f, [1], [0, 10], { rtol: 1e-3, atol: 1e-6, maxStep: 0.1 });
    expect(r.stats.accepted).toBeGreaterThanOrEqual(100);
    const a = odeint(EXPONENTIAL_DECAY.f, [1], [0, 1], { rtol: 1e-6, atol: 1e-9 });
    const b = odeint(EXPONENTIAL_DECAY.f, [1], [0, 1], { rtol: 1e-6, atol: 1e-9, firstStep: 1e-3 });
    // firstStep skips the initial-step probe (one evaluation) and starts from the given size.
    expect(b.stats.nfe).not.toBe(a.stats.nfe);
    expect(Math.abs(b.lastStep)).toBeGreaterThan(0);
  });

  it('steps from output time to output time for fixed-step methods without stepSize', () => {
    const r = odeint(EXPONENTIAL_DECAY.f, [1], [0, 0.1, 0.2, 0.5], { method: 'rk4' });
    expect(r.stats.accepted).toBe(3);
    expect(r.stats.nfe).toBe(3 * 4); // four stages per step, the first being the previous f(t1, y1)
    expect(Number.isNaN(r.stats.errorEstimate)).toBe(true);
  });

  it('takes solver and controller objects directly', () => {
    const r = odeint(EXPONENTIAL_DECAY.f, [1], [0, 10], {
      solver: new ExplicitRungeKutta(DOPRI5),
      controller: new PIController({ pcoeff: 0.2, icoeff: 0.4 }),
      rtol: 1e-6,
      atol: 1e-9,
    });
    expect(maxAbsDiff(r.ys[1], EXPONENTIAL_DECAY.exact(10))).toBeLessThan(1e-7);
  });

  it('returns y0 alone for a single output time', () => {
    const r = odeint(EXPONENTIAL_DECAY.f, [2], [3]);
    expect(Array.from(r.ys[0])).toEqual([2]);
    expect(r.stats.nfe).toBe(0);
  });
});

describe('OdeError reasons', () => {
  const reasonOf = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(OdeError);
      return e;
    }
    throw new Error('expected an OdeError');
  };

  it('bad_arguments: non-monotonic ts', () => {
    const e = reasonOf(() => odeint(EXPONENTIAL_DECAY.f, [1], [0, 1, 0.5])) as OdeError;
    expect(e.reason).toBe('bad_arguments');
    expect(e.message).toMatch(/strictly increasing or strictly decreasing/);
    expect((reasonOf(() => odeint(EXPONENTIAL_DECAY.f, [1], [0, 0])) as OdeError).reason).toBe('bad_arguments');
    expect((reasonOf(() => odeint(EXPONENTIAL_DECAY.f, [1], [])) as OdeError).reason).toBe('bad_arguments');
  });

  it('bad_arguments: shape mismatch between state and vector field', () => {
    const e = reasonOf(() => odeint(() => [1, 2, 3], [1, 0], [0, 1])) as OdeError;
    expect(e.reason).toBe('bad_arguments');
    expect(e.message).toMatch(/Shape mismatch.*3.*2/);
  });

  it('bad_arguments: unknown method, bad stepSize', () => {
    expect(
      (reasonOf(() => odeint(EXPONENTIAL_DECAY.f, [1], [0, 1], { method: 'rk45' as never })) as OdeError).reason,
    ).toBe('bad_arguments');
    expect((reasonOf(() => odeint(EXPONENTIAL_DECAY.f, [1], [0, 1], { stepSize: -1 })) as OdeError).reason).toBe(
      'bad_arguments',
    );
  });

  it("step_size_underflow: y' = y² blows up at t = 1", () => {
    const e = reasonOf(() =>
      odeint((_t, y) => [y[0] * y[0]], [1], [0, 2], { rtol: 1e-6, atol: 1e-9, maxSteps: 100_000 }),
    ) as OdeError;
    expect(e.reason).toBe('step_size_underflow');
    expect(e.context.t).toBeGreaterThan(0.99);
    expect(e.context.t).toBeLessThan(1.001); // the numerical blow-up trails the exact one slightly
    expect(Math.abs(e.context.h as number)).toBeLessThan(1e-12);
    expect(e.message).toMatch(/Step size underflow at t=/);
  });

  it('too_many_steps', () => {
    const e = reasonOf(() =>
      odeint(HARMONIC_OSCILLATOR.f, [1, 0], [0, 100], { rtol: 1e-10, maxSteps: 50 }),
    ) as OdeError;
    expect(e.reason).toBe('too_many_steps');
    expect(e.message).toMatch(/maxSteps/);
    expect(e.context.step).toBe(50);
  });

  it('non_finite_state: a field that turns NaN (adaptive, with where it happened)', () => {
    const e = reasonOf(() => odeint((t, y) => [t > 0.5 ? NaN : -y[0]], [1], [0, 1])) as OdeError;
    expect(e.reason).toBe('non_finite_state');
    expect(e.context.t).toBeLessThanOrEqual(0.5);
    expect(e.context.t).toBeGreaterThan(0.49);
  });

  it('non_finite_state: fixed steps overflowing, and a non-finite initial state', () => {
    const e = reasonOf(() =>
      odeint((_t, y) => [y[0] * y[0]], [1], [0, 10], { method: 'euler', stepSize: 0.5 }),
    ) as OdeError;
    expect(e.reason).toBe('non_finite_state');
    expect(e.context.step).toBeGreaterThan(1);
    expect((reasonOf(() => odeint(EXPONENTIAL_DECAY.f, [NaN], [0, 1])) as OdeError).reason).toBe('non_finite_state');
  });
});
