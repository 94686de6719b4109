import { ButcherTableau, validateTableau } from './tableau';
import { TABLEAUX } from './tableaux';

const sum = (xs: readonly number[]) => xs.reduce((a, v) => a + v, 0);

describe('Butcher tableaux', () => {
  describe.each(Object.values(TABLEAUX).map((t) => [t.name, t] as const))('%s', (_name, tab) => {
    // Coefficients are exact rationals or 16-digit decimals: sums hold to a few ulps.
    it('has rows of a summing to c', () => {
      tab.a.forEach((row, i) => expect(sum(row)).toBeCloseTo(tab.c[i + 1], 13));
    });
    it('has b summing to 1 and the error weights summing to 0', () => {
      expect(sum(tab.b)).toBeCloseTo(1, 13);
      if (tab.bError) expect(Math.abs(sum(tab.bError))).toBeLessThan(1e-13);
    });
    it('passes validation', () => {
      expect(validateTableau(tab)).toEqual([]);
    });
    if (tab.dense) {
      it('has a dense output equal to 0 at θ=0, b at θ=1, and total weight θ', () => {
        expect(tab.denseWeights(0).every((w) => w === 0)).toBe(true);
        tab.denseWeights(1).forEach((w, j) => expect(w).toBeCloseTo(tab.b[j], 9));
        for (const th of [0.1, 0.37, 0.8]) expect(sum(tab.denseWeights(th))).toBeCloseTo(th, 10);
      });
    }
  });

  it('detects FSAL exactly for the methods that have it', () => {
    expect(
      Object.values(TABLEAUX)
        .filter((t) => t.fsal)
        .map((t) => t.name),
    ).toEqual(['bosh3', 'dopri5', 'tsit5']);
  });

  it('rejects inconsistent tableaux', () => {
    const bad = { name: 'bad', order: 2, c: [0, 0.5], a: [[0.4]], b: [0.5, 0.6], bError: [0.1, 0], errorOrder: 1 };
    const problems = validateTableau(bad);
    expect(problems.join('\n')).toMatch(/a row 1 sums/);
    expect(problems.join('\n')).toMatch(/b sums/);
    expect(problems.join('\n')).toMatch(/bError sums/);
    expect(() => new ButcherTableau(bad)).toThrow(/Invalid Butcher tableau 'bad'/);
  });
});
