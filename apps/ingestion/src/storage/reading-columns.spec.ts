import { ReadingColumns, columnCopyBinary } from './reading-columns';
import { inKeyOrder } from './ingestion.repository';

/** Reads a binary COPY stream back into rows (the format PostgreSQL documents for COPY BINARY). */
function parseCopyBinary(buf: Buffer): { micros: bigint; machineId: string; sensor: string; value: number }[] {
  expect(buf.subarray(0, 11)).toEqual(Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'));
  expect(buf.readInt32BE(11)).toBe(0); // flags
  expect(buf.readInt32BE(15)).toBe(0); // header extension
  const rows = [];
  let off = 19;
  for (;;) {
    const fields = buf.readInt16BE(off);
    off += 2;
    if (fields === -1) break;
    expect(fields).toBe(4);
    const field = () => {
      const len = buf.readInt32BE(off);
      const bytes = buf.subarray(off + 4, off + 4 + len);
      off += 4 + len;
      return bytes;
    };
    const time = field();
    expect(time.length).toBe(8);
    const machineId = field().toString('utf8');
    const sensor = field().toString('utf8');
    const value = field();
    expect(value.length).toBe(8);
    rows.push({ micros: time.readBigInt64BE(0), machineId, sensor, value: value.readDoubleBE(0) });
  }
  expect(off).toBe(buf.length);
  return rows;
}

const PG_EPOCH_MS = 946_684_800_000n;

describe('columnCopyBinary', () => {
  it('writes each row as timestamptz microseconds since 2000, UTF-8 texts and IEEE doubles, exactly', () => {
    const times = [0, 946_684_800_000, 1_764_547_200_123, 8.64e15, -8.64e15 + 1, 946_684_799_999];
    const c = new ReadingColumns();
    times.forEach((t, i) =>
      c.push(i % 2 ? 'm1' : 'mächine-ü', `s${i}`, t, [0.1 + 0.2, -1.5e-300, 1.7976931348623157e308][i % 3]),
    );
    const rows = parseCopyBinary(columnCopyBinary(c));
    // Microseconds computed with BigInt (exact) for comparison; ms * 1000 passes 2^53 for the extremes.
    expect(rows.map((r) => r.micros)).toEqual(times.map((t) => (BigInt(t) - PG_EPOCH_MS) * 1000n));
    expect(rows.map((r) => r.machineId)).toEqual(c.machineIds);
    expect(rows.map((r) => r.sensor)).toEqual(c.sensors);
    expect(rows.map((r) => r.value)).toEqual(c.values);
  });

  it('rounds a fractional millisecond to the microsecond', () => {
    const c = new ReadingColumns();
    c.push('m', 's', 1_764_547_200_123.25, 1);
    expect(parseCopyBinary(columnCopyBinary(c))[0].micros).toBe((1_764_547_200_123n - PG_EPOCH_MS) * 1000n + 250n);
  });

  it('is only the header and trailer for no rows', () => {
    expect(parseCopyBinary(columnCopyBinary(new ReadingColumns()))).toEqual([]);
  });
});

describe('inKeyOrder', () => {
  it('groups rows by machine, then sensor, keeping each group in arrival order and every row once', () => {
    const c = new ReadingColumns();
    const input: [string, string, number][] = [
      ['b', 'x', 1],
      ['a', 'x', 2],
      ['b', 'y', 3],
      ['b', 'x', 4],
      ['a', 'x', 5],
      ['a', 'y', 6],
    ];
    for (const [m, s, t] of input) c.push(m, s, t, t * 10);
    const out = inKeyOrder(c);
    expect(out.toReadings()).toEqual(
      [
        ['b', 'x', 1],
        ['b', 'x', 4],
        ['b', 'y', 3],
        ['a', 'x', 2],
        ['a', 'x', 5],
        ['a', 'y', 6],
      ].map(([machineId, sensor, time]) => ({ machineId, sensor, time, value: (time as number) * 10 })),
    );
  });
});

describe('ReadingColumns', () => {
  it('round-trips reading objects and appends row ranges', () => {
    const readings = [
      { machineId: 'm1', sensor: 'a', time: 1, value: 1.5 },
      { machineId: 'm2', sensor: 'b', time: 2, value: -2 },
      { machineId: 'm3', sensor: 'c', time: 3, value: 3 },
    ];
    const c = ReadingColumns.from(readings);
    expect(c.length).toBe(3);
    expect(c.toReadings()).toEqual(readings);
    const d = new ReadingColumns();
    d.append(c, 1, 2);
    d.append(c, 2);
    expect(d.toReadings()).toEqual(readings.slice(1));
  });
});
