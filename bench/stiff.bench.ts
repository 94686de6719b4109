/**
 * `npm run bench:stiff` — stiff solvers of libs/ode (issue 5) against SciPy's committed numbers.
 *
 * For Robertson (t ≤ 1e5), Van der Pol μ = 1000 (t ≤ 3000) and HIRES (t ≤ 321.8122) at the tolerances of
 * bench/reference/scipy_stiff.json: steps, nfe (and nfe without the finite-difference Jacobian's
 * evaluations, which SciPy's Radau/BDF `nfev` leaves out), njev, nlu, wall time (minimum of 3) and end error
 * against the tight reference, for every implicit method, 'auto' and dopri5 (capped at 20,000 steps);
 * then the ratios of steps and nfe to SciPy Radau and BDF.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HIRES, odeint, OdeError, ROBERTSON, VAN_DER_POL, type StiffProblem, type StiffStats } from '@continuum/ode';

interface Ref {
  reference: { y_end: number[] };
  methods: Record<
    string,
    { nfev: number; njev: number; nlu: number; steps: number; seconds: number; end_error: number }
  >;
}
const ref = JSON.parse(fs.readFileSync(path.join(__dirname, 'reference/scipy_stiff.json'), 'utf8')) as {
  scipy: string;
  problems: Record<string, Ref>;
};
const METHODS = ['radau5', 'rodas4', 'kvaerno5', 'kvaerno3', 'auto', 'dopri5'] as const;
const fmt = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '—');

console.log(`SciPy ${ref.scipy} reference (bench/reference/scipy_stiff.json)\n`);
for (const p of [ROBERTSON, VAN_DER_POL, HIRES] as StiffProblem[]) {
  const r = ref.problems[p.name];
  console.log(`## ${p.name}: t ∈ [${p.t0}, ${p.t1}], rtol ${p.rtol}, atol ${JSON.stringify(p.atol)}`);
  console.log(
    '| method | steps | nfe | nfe w/o Jacobian | njev | nlu | ms | end error | steps / Radau | nfe / Radau | nfe / BDF |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const m of METHODS) {
    let best = Infinity;
    let line = '';
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      try {
        const s = odeint(p.f, p.y0, [p.t0, p.t1], {
          method: m,
          rtol: p.rtol,
          atol: p.atol as number[],
          maxSteps: m === 'dopri5' ? 20_000 : 100_000,
        });
        const ms = performance.now() - t0;
        if (ms >= best) continue;
        best = ms;
        const st = s.stats as StiffStats;
        const nfeNoJac = st.nfe - (st.nfeJacobian ?? 0);
        const err = Math.max(...r.reference.y_end.map((v, i) => Math.abs(v - s.ys[1][i])));
        line = `| ${m} | ${st.steps} | ${st.nfe} | ${nfeNoJac} | ${st.njev} | ${st.nlu} | ${fmt(ms, 1)} | ${err.toExponential(1)} | ${fmt(st.steps / r.methods.Radau.steps)} | ${fmt(nfeNoJac / r.methods.Radau.nfev)} | ${fmt(nfeNoJac / r.methods.BDF.nfev)} |`;
        if (m === 'auto') line += ` switches ${st.switches}, steps ${JSON.stringify(st.stepsByMethod)}`;
      } catch (e) {
        const ms = performance.now() - t0;
        line = `| ${m} | > 20,000 (${(e as OdeError).reason}) | ≥ 120,000 | | | | ${fmt(ms, 1)} | did not reach t1 | | | |`;
        break;
      }
    }
    console.log(line);
  }
  for (const [name, s] of Object.entries(r.methods))
    console.log(
      `| SciPy ${name} | ${s.steps} | ${s.nfev} | ${s.nfev} | ${s.njev} | ${s.nlu} | ${fmt(s.seconds * 1000, 1)} | ${s.end_error.toExponential(1)} | | | |`,
    );
  console.log('');
}
