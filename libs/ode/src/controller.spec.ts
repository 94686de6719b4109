import { ConstantStepSize, PIController } from './controller';

describe('PIController', () => {
  const c = new PIController();

  it('accepts err ≤ 1 and grows the step by safety·err^(-1/k)', () => {
    const d = c.adapt(c.init(), 0.5 ** 5, 1, 4);
    expect(d.accept).toBe(true);
    expect(d.hNext).toBeCloseTo(0.9 * 2, 12);
  });

  it('rejects err > 1 and shrinks, never below minFactor', () => {
    const d = c.adapt(c.init(), 32, 1, 4);
    expect(d.accept).toBe(false);
    expect(d.hNext).toBeCloseTo(0.9 * 0.5, 12);
    expect(c.adapt(c.init(), 1e12, 1, 4).hNext).toBe(0.2);
    expect(c.adapt(c.init(), NaN, 1, 4)).toMatchObject({ accept: false, hNext: 0.2 });
  });

  it('caps growth at maxFactor and allows no growth right after a rejection', () => {
    expect(c.adapt(c.init(), 0, 1, 4).hNext).toBe(10);
    expect(c.adapt(c.init(), 1e-12, 1, 4).hNext).toBe(10);
    const afterReject = c.adapt(c.adapt(c.init(), 2, 1, 4).state, 1e-6, 1, 4);
    expect(afterReject.accept).toBe(true);
    expect(afterReject.hNext).toBe(1);
  });

  it('uses the previous error with a proportional term', () => {
    const pi = new PIController({ pcoeff: 0.4, icoeff: 0.3 });
    const first = pi.adapt(pi.init(), 0.5, 1, 4);
    const second = pi.adapt(first.state, 0.5, 1, 4);
    // factor = 0.9 · 0.5^(-0.7/5) · 0.5^(0.4/5)
    expect(second.hNext).toBeCloseTo(0.9 * 0.5 ** (-0.7 / 5) * 0.5 ** (0.4 / 5), 12);
  });
});

describe('ConstantStepSize', () => {
  it('always accepts with the same step', () => {
    const c = new ConstantStepSize(0.1);
    expect(c.adapt(c.init(), 1e9, 0.05)).toMatchObject({ accept: true, hNext: 0.1 });
  });
});
