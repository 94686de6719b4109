import { trainRul, windowIndices } from './pipeline';
import { syntheticEngines } from './synthetic-engines';

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe('windowIndices (which readings an input window reads)', () => {
  const cycles = range(1, 301); // reading i is cycle i + 1, as in a C-MAPSS file

  it('without a span: the last `window` kept readings', () => {
    expect(windowIndices(range(0, 100), cycles, 30)).toEqual(range(70, 100));
    expect(windowIndices([3, 9, 40], cycles, 30)).toEqual([3, 9, 40]);
  });

  it('regular readings: the last `span` cycles thinned evenly to `window`, the newest kept', () => {
    const idx = windowIndices(range(0, 200), cycles, 30, 60);
    expect(idx).toHaveLength(30);
    expect(idx.at(-1)).toBe(199);
    expect(idx[0]).toBe(140); // the oldest reading inside the 60-cycle span
    const gaps = idx.slice(1).map((v, i) => v - idx[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(3);
    // Strictly increasing, so no reading is read twice.
    expect(new Set(idx).size).toBe(30);
  });

  it('a span that holds no more than `window` readings reads the last `window` kept, as without a span', () => {
    const keep = range(0, 200).filter((i) => i % 2 === 0); // every other reading missing
    expect(windowIndices(keep, cycles, 30, 60)).toEqual(keep.slice(-30));
    // A short engine.
    expect(windowIndices(range(0, 25), cycles, 30, 60)).toEqual(range(0, 25));
  });

  it('trainRul refuses a span that is not a positive number of cycles, before any training', () => {
    const engines = syntheticEngines(3, 40, 1);
    for (const span of [0, -5, Number.NaN])
      expect(() => trainRul(engines, { span, window: 10 })).toThrow(/span must be a positive number of cycles/);
  });

  it('uses cycle numbers, not positions: a gap in the record shortens what the span holds', () => {
    const gappy = [...range(0, 100), ...range(150, 180)];
    // cycles 121-180 hold readings 150-179 only (30): no thinning, the last 30 kept.
    expect(windowIndices(gappy, cycles, 30, 60)).toEqual(range(150, 180));
  });
});
