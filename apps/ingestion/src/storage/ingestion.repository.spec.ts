import type { Reading } from '@continuum/persistence';
import { ReadingColumns, columnArrayLiterals } from './reading-columns';

const readingArrayLiterals = (readings: Reading[]) => columnArrayLiterals(ReadingColumns.from(readings));

describe('columnArrayLiterals', () => {
  it('writes times as epoch ms, quotes every text element and keeps numbers exact', () => {
    const literals = readingArrayLiterals([
      { machineId: 'm1', sensor: 'NULL', time: 1_764_547_200_123, value: 0.1 + 0.2 },
      { machineId: 'm1', sensor: 'b', time: 0, value: -1.5e-300 },
      { machineId: 'm2', sensor: 'c', time: 8.64e15, value: 1.7976931348623157e308 },
    ]);
    expect(literals).toEqual([
      '{1764547200123,0,8640000000000000}',
      '{"m1","m1","m2"}',
      // Quoted, an element spelled NULL is the text "NULL", not a null.
      '{"NULL","b","c"}',
      '{0.30000000000000004,-1.5e-300,1.7976931348623157e+308}',
    ]);
    // Every number reads back as the same double.
    expect(literals[3].slice(1, -1).split(',').map(Number)).toEqual([0.1 + 0.2, -1.5e-300, 1.7976931348623157e308]);
  });

  it('escapes quotes and backslashes in text elements', () => {
    const [, machines, sensors] = readingArrayLiterals([{ machineId: 'a"b', sensor: 'c\\d', time: 1, value: 1 }]);
    expect(machines).toBe('{"a\\"b"}');
    expect(sensors).toBe('{"c\\\\d"}');
  });
});
