/**
 * A recording of one `npm run eval:alerts` run: what the scoring needs of it (the twin's messages
 * after the warm-up, the loop's ticks, the ground truth and the baselines' alerts), so that rules
 * can be scored again without simulating the fleet and running the twin (minutes of CPU) —
 * `EVAL_TRACE=run.jsonl.gz` writes one, `EVAL_REPLAY=run.jsonl.gz` scores the default rules and
 * any `EVAL_RULES` against it in seconds.
 *
 * Format: gzip'd JSON lines, in the order the live run produced them:
 * a `fleet` line, then `messages` (one chunk of one asset type's twin messages, predictions left
 * out: no detector reads them) and `tick` lines, then an `end` line.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';
import type { TwinMessage } from '@continuum/contracts';
import type { Raises, Truth } from './scoring';

export const TRACE_FORMAT = 1;

/** A twin message as the detectors read it. */
export type ScoredMessage = Omit<TwinMessage, 'prediction'>;

export interface TraceMachine {
  id: string;
  assetType: string;
  accelerated: boolean;
}

export interface RunStats {
  readings: number;
  forecasts: number;
  nfe: number;
  seconds: number;
  spent: { simulator: number; twin: number; forecast: number };
}

export type TraceLine =
  | { kind: 'fleet'; format: number; settings: Record<string, unknown>; machines: TraceMachine[] }
  | { kind: 'messages'; assetType: string; messages: ScoredMessage[] }
  /** The end of a step of the loop at simulated second t; `stopped`: machines failed by then. */
  | { kind: 'tick'; t: number; stopped: number[] }
  | { kind: 'end'; truths: Truth[]; baselines: { name: string; raises: Raises[] }[]; stats: RunStats };

export const scoredMessage = ({ prediction: _prediction, ...rest }: TwinMessage): ScoredMessage => rest;

export class TraceWriter {
  private readonly gzip: Gzip;
  private readonly file: WriteStream;
  private readonly done: Promise<void>;

  constructor(readonly path: string) {
    this.gzip = createGzip();
    this.file = createWriteStream(path);
    this.done = new Promise((resolve, reject) => {
      this.file.on('finish', resolve);
      this.file.on('error', reject);
      this.gzip.on('error', reject);
    });
    this.gzip.pipe(this.file);
  }

  /** Writes a line; waits when the stream is backed up, so a long run does not buffer it all. */
  async write(line: TraceLine): Promise<void> {
    if (!this.gzip.write(`${JSON.stringify(line)}\n`))
      await new Promise<void>((resolve) => this.gzip.once('drain', resolve));
  }

  async close(): Promise<void> {
    this.gzip.end();
    await this.done;
  }
}

/** The lines of a trace, checked as they come: a clear error for a file that is not one. */
export async function* readTrace(path: string): AsyncGenerator<TraceLine> {
  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity });
  let n = 0;
  let ended = false;
  for await (const text of lines) {
    n++;
    if (!text) continue;
    let line: TraceLine;
    try {
      line = JSON.parse(text) as TraceLine;
    } catch (err) {
      throw new Error(`${path}:${n}: not a JSON line (${(err as Error).message})`, { cause: err });
    }
    if (n === 1 && (line.kind !== 'fleet' || line.format !== TRACE_FORMAT))
      throw new Error(`${path}: not an eval:alerts trace of format ${TRACE_FORMAT} (first line: ${text.slice(0, 80)})`);
    if (line.kind === 'end') ended = true;
    yield line;
  }
  if (!ended) throw new Error(`${path}: the trace ends before its 'end' line (a run that did not finish?)`);
}
