import { Rng } from '../random';
import { CMAPSS_COLUMNS, type Engine } from './data';
import { RulOdeRnn } from './rul-model';

/**
 * Synthetic C-MAPSS-shaped engines for tests: every column noisy around a per-column level (so that
 * every sensor is kept by the normalisation), plus `trend` per cycle.
 */
export function syntheticEngines(count: number, cycles: number, seed: number, trend = 0): Engine[] {
  const rng = new Rng(seed);
  const C = CMAPSS_COLUMNS.length;
  return Array.from({ length: count }, (_, u) => ({
    unit: u + 1,
    cycles: Array.from({ length: cycles }, (_, i) => i + 1),
    rows: Float64Array.from({ length: cycles * C }, (_, k) => 10 * (k % C) + trend * Math.floor(k / C) + rng.normal()),
  }));
}

/** A small RUL model for tests: hidden state 6, fixed-step Euler, gradients by backprop (fast and exact). */
export function smallRulModel(inputDim: number, rulCap: number, seed: number): RulOdeRnn {
  return new RulOdeRnn({
    inputDim,
    hiddenDim: 6,
    odeHidden: [6],
    headHidden: [4],
    activation: 'tanh',
    rulCap,
    solver: { method: 'euler', gradient: 'backprop' },
    seed,
  });
}
