import { mergeStats, sliceByMachine } from './slices';
import type { TwinReading } from './twin-processor';

const reading = (machineId: string, timeMs: number): TwinReading => ({
  machineId,
  timeMs,
  values: { s: timeMs },
  receivedAtMs: 0,
});

describe('a batch in slices', () => {
  it('puts at most n readings of a machine in a slice, each machine in time order across slices', () => {
    const readings = [
      ...[5, 1, 4, 2, 3].map((t) => reading('a', t)),
      ...[10, 20].map((t) => reading('b', t)),
      reading('c', 7),
    ];
    const slices = sliceByMachine(readings, 2);
    expect(slices.map((s) => s.map((r) => `${r.machineId}${r.timeMs}`))).toEqual([
      ['a1', 'a2', 'b10', 'b20', 'c7'],
      ['a3', 'a4'],
      ['a5'],
    ]);
    expect(slices.flat()).toHaveLength(readings.length);
    expect(sliceByMachine([], 32)).toEqual([]);
    expect(() => sliceByMachine(readings, 0)).toThrow('positive integer');
  });

  it("adds up the slices' statistics", () => {
    const solve = { model: 'm', batch: 2, nfe: 9, errorEstimate: 0.1, firstStep: 0.01 };
    const total = mergeStats([
      { updates: 3, rounds: 2, solves: [solve, solve], rejected: { 'non-finite': 1 }, outOfOrder: 1 },
      { updates: 1, rounds: 1, solves: [solve], rejected: { 'non-finite': 2, 'too-old': 1 }, outOfOrder: 0 },
    ]);
    expect(total).toEqual({
      updates: 4,
      rounds: 3,
      solves: [solve, solve, solve],
      rejected: { 'non-finite': 3, 'too-old': 1 },
      outOfOrder: 1,
    });
  });
});
