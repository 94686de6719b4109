import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * A ground-truth record: what really happened, for evaluating the platform. `t` is simulated
 * seconds since the start of the simulation; the writer adds `time` (ISO-8601, simulated clock).
 *
 * - `machine` / `repair`: a machine (re)born with its hidden parameters (wear law, rate, initial wear);
 * - `regime`: a load change or a stop;
 * - `fault`: an injected sensor fault over [start, end) (simulated seconds);
 * - `failure`: the hidden wear reached 1 (the machine stops sending until repaired);
 * - `outage`: the machine's link was down over [start, end): readings taken then are lost;
 * - `malformed`: a deliberately malformed message was published on `topic`.
 */
export interface GroundTruthRecord {
  type: 'machine' | 'repair' | 'regime' | 'fault' | 'failure' | 'outage' | 'malformed';
  machineId: string;
  t?: number;
  [key: string]: unknown;
}

/** Writes ground-truth records as JSON lines. */
export class GroundTruthWriter {
  private readonly stream: WriteStream;

  constructor(
    path: string,
    private readonly startMs: number,
  ) {
    this.stream = createWriteStream(path, { flags: 'w' });
  }

  write(records: readonly GroundTruthRecord[]): void {
    for (const r of records) this.stream.write(`${JSON.stringify(toLine(r, this.startMs))}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }
}

/** A record with its simulated times as epoch milliseconds and ISO-8601 (`time`, `startTime`, `endTime`). */
export function toLine(r: GroundTruthRecord, startMs: number): Record<string, unknown> {
  const iso = (s: number) => (Number.isFinite(s) ? new Date(startMs + Math.round(s * 1000)).toISOString() : null);
  const line: Record<string, unknown> = { ...r };
  if (typeof r.t === 'number') line.time = iso(r.t);
  if (typeof r.start === 'number') line.startTime = iso(r.start);
  if (typeof r.end === 'number') line.endTime = iso(r.end);
  if (r.end === Infinity) line.end = null;
  return line;
}
