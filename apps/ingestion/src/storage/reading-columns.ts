import type { Reading } from '@continuum/persistence';

/**
 * Readings of a batch held column by column (machine ids, sensors, epoch-ms times, values)
 * instead of one object per reading.
 *
 * Why: a batch lives from its first message until its commit (tens to hundreds of ms), long
 * enough for V8 to copy every reading object out of the young generation and promote it; with
 * 100,000 readings queued, garbage collection was the largest single cost of the ingestion
 * thread (docs/benchmarks.md, issue 7). Columns hold the same data in four arrays: numbers in
 * packed double arrays and strings shared between readings (the same machine id and sensor
 * names for every message of a machine).
 */
export class ReadingColumns {
  readonly machineIds: string[] = [];
  readonly sensors: string[] = [];
  /** Epoch ms. */
  readonly times: number[] = [];
  readonly values: number[] = [];

  get length(): number {
    return this.times.length;
  }

  push(machineId: string, sensor: string, time: number, value: number): void {
    this.machineIds.push(machineId);
    this.sensors.push(sensor);
    this.times.push(time);
    this.values.push(value);
  }

  /** Appends rows [from, to) of another set of columns. */
  append(other: ReadingColumns, from = 0, to = other.length): void {
    for (let i = from; i < to; i++) this.push(other.machineIds[i], other.sensors[i], other.times[i], other.values[i]);
  }

  static from(readings: readonly Reading[]): ReadingColumns {
    const c = new ReadingColumns();
    for (const r of readings) c.push(r.machineId, r.sensor, r.time, r.value);
    return c;
  }

  /** The readings as objects (for listeners and tests; the hot path never calls it). */
  toReadings(): Reading[] {
    const out: Reading[] = new Array(this.length);
    for (let i = 0; i < out.length; i++)
      out[i] = { machineId: this.machineIds[i], sensor: this.sensors[i], time: this.times[i], value: this.values[i] };
    return out;
  }
}

/**
 * The PostgreSQL array literals (`{...}`) of the columns' times (epoch ms), machine ids, sensors
 * and values, built in one pass. Text elements are always quoted (an unquoted `NULL` would be a
 * null), with `"` and `\` escaped; numbers are written as JavaScript writes them, which
 * `float8in` reads back exactly (shortest round-trip form).
 */
export function columnArrayLiterals(c: ReadingColumns): [string, string, string, string] {
  let times = '{';
  let machines = '{';
  let sensors = '{';
  let values = '{';
  let lastMachine = '';
  let lastMachineText = '';
  const n = c.length;
  for (let i = 0; i < n; i++) {
    const sep = i === 0 ? '' : ',';
    times += sep + c.times[i];
    // Consecutive readings mostly share their machine: quote it once per run.
    const machineId = c.machineIds[i];
    if (machineId !== lastMachine || i === 0) {
      lastMachine = machineId;
      lastMachineText = quoteElement(machineId);
    }
    machines += sep + lastMachineText;
    sensors += sep + quoteElement(c.sensors[i]);
    values += sep + c.values[i];
  }
  return [times + '}', machines + '}', sensors + '}', values + '}'];
}

function quoteElement(s: string): string {
  return s.includes('"') || s.includes('\\') ? `"${s.replace(/["\\]/g, '\\$&')}"` : `"${s}"`;
}

/** 2000-01-01T00:00:00Z in epoch ms: PostgreSQL's binary timestamps count microseconds from there. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;

/**
 * Epoch ms as PostgreSQL's int64 microseconds since 2000-01-01, exactly: ms * 1000 can pass 2^53,
 * so the product is built from 32-bit halves. A fractional ms is rounded to the microsecond.
 */
function writeMicros(buf: Buffer, off: number, ms: number): void {
  const d = ms - PG_EPOCH_MS;
  let hi: number;
  let lo: number;
  if (Number.isSafeInteger(d)) {
    const dHi = Math.floor(d / TWO_32);
    const loProduct = (d - dHi * TWO_32) * 1000; // < 2^42: exact
    const carry = Math.floor(loProduct / TWO_32);
    hi = dHi * 1000 + carry;
    lo = loProduct - carry * TWO_32;
  } else {
    const us = Math.round(d * 1000);
    hi = Math.floor(us / TWO_32);
    lo = us - hi * TWO_32;
  }
  buf.writeInt32BE(hi, off);
  buf.writeUInt32BE(lo, off + 4);
}

/** The signature, flags and header-extension length that open a binary COPY stream. */
const COPY_HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);

/**
 * The columns as a binary COPY stream (`COPY readings (time, machine_id, sensor, value) FROM
 * STDIN (FORMAT binary)`): per row the field count, then each field's length and bytes
 * (timestamptz as int64 microseconds since 2000, text as UTF-8, float8 as IEEE 754), all big-endian.
 */
export function columnCopyBinary(c: ReadingColumns): Buffer {
  const n = c.length;
  const encoded = new Map<string, Buffer>();
  const utf8 = (s: string): Buffer => {
    let e = encoded.get(s);
    if (e === undefined) {
      e = Buffer.from(s, 'utf8');
      encoded.set(s, e);
    }
    return e;
  };
  let bytes = COPY_HEADER.length + 2;
  for (let i = 0; i < n; i++) bytes += 2 + 12 + 4 + utf8(c.machineIds[i]).length + 4 + utf8(c.sensors[i]).length + 12;
  const buf = Buffer.allocUnsafe(bytes);
  COPY_HEADER.copy(buf, 0);
  let off = COPY_HEADER.length;
  for (let i = 0; i < n; i++) {
    buf.writeInt16BE(4, off);
    buf.writeInt32BE(8, off + 2);
    writeMicros(buf, off + 6, c.times[i]);
    off = writeText(buf, off + 14, utf8(c.machineIds[i]));
    off = writeText(buf, off, utf8(c.sensors[i]));
    buf.writeInt32BE(8, off);
    buf.writeDoubleBE(c.values[i], off + 4);
    off += 12;
  }
  buf.writeInt16BE(-1, off);
  return buf;
}

function writeText(buf: Buffer, off: number, e: Buffer): number {
  const len = e.length;
  buf.writeInt32BE(len, off);
  off += 4;
  if (len <= 32) for (let j = 0; j < len; j++) buf[off + j] = e[j];
  else e.copy(buf, off);
  return off + len;
}
