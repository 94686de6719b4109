import { fork } from 'node:child_process';
import * as path from 'node:path';
import type { RulTrainOptions } from './pipeline';

/**
 * Trains the members of a RUL ensemble in child processes, `workers` at a time. TensorFlow.js's WASM
 * backend runs on one thread, so one process trains one model on one core; on this two-core machine
 * two processes train two members in the wall time of one (docs/neural.md).
 *
 * Each child (member-process.ts) reads the C-MAPSS file itself, keeps the engines `units` names
 * (all when absent), trains with `settings` and the member's seed and time budget, saves the member to
 * its directory and reports progress lines; a child that fails fails the whole run, with its message.
 */
export interface ParallelTrainOptions {
  /** C-MAPSS training file (each child reads it). */
  file: string;
  /** Engine units to train on (cross-validation folds); all engines of the file when absent. */
  units?: number[];
  /** One entry per member: its seed and the directory it is saved to. */
  members: { seed: number; dir: string }[];
  /** Wall-clock budget of the whole ensemble (s), shared out as {@link memberSeconds} says. */
  seconds: number;
  /** Members trained at once (processes); default 2. */
  workers?: number;
  /** Training settings common to every member (window, batch, schedule, ...; no callbacks). */
  settings: Omit<RulTrainOptions, 'seed' | 'maxSeconds' | 'onProgress'>;
  /** TensorFlow.js backend of the children (default: the one `initTensorBackend` picks, native if present). */
  backend?: string;
  /** Progress and log lines of the members, with the member's index. */
  onLine?: (member: number, line: string) => void;
}

/** What a child sends back. */
export type MemberMessage =
  | {
      type: 'done';
      /** Training seconds, epochs run, and the best validation RMSE (cycles; the weights kept). */
      seconds: number;
      epochs: number;
      bestValRmse: number | null;
      /** When the child started and finished (ms since the epoch). */
      startedAt: number;
      endedAt: number;
    }
  | { type: 'error'; message: string };

/** What a child is asked to do. */
export interface MemberJob {
  file: string;
  units?: number[];
  seed: number;
  seconds: number;
  dir: string;
  settings: ParallelTrainOptions['settings'];
  backend?: string;
  metrics: Record<string, unknown>;
}

/**
 * Seconds each member may train: the budget divided by the number of rounds of `workers` members
 * (4 members on 2 workers in 1,080 s: two rounds, 540 s each).
 */
export function memberSeconds(seconds: number, members: number, workers: number): number {
  if (!(seconds > 0)) throw new Error(`the budget must be positive, got ${seconds}`);
  if (!Number.isInteger(members) || members < 1) throw new Error(`members must be a positive integer, got ${members}`);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be a positive integer, got ${workers}`);
  return seconds / Math.ceil(members / workers);
}

const CHILD = path.join(__dirname, `member-process${path.extname(__filename)}`);

/** Runs one member in a child process; resolves with its report. */
function runMember(job: MemberJob, onLine: (line: string) => void): Promise<Extract<MemberMessage, { type: 'done' }>> {
  // A TypeScript source needs the same loader in the child (the CLI runs under @swc-node/register).
  const execArgv = CHILD.endsWith('.ts') ? ['-r', '@swc-node/register'] : [];
  const child = fork(CHILD, [], { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stderr = '';
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    lines.filter(Boolean).forEach(onLine);
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let result: Extract<MemberMessage, { type: 'done' }> | null = null;
    let failure: string | null = null;
    child.on('message', (m: MemberMessage) => {
      if (m.type === 'done') result = m;
      else failure = m.message;
    });
    child.on('error', reject);
    // 'close', not 'exit': by then the child's stdio and IPC channel are drained.
    child.on('close', (code, signal) => {
      if (result) resolve(result);
      else
        reject(
          new Error(
            `member with seed ${job.seed} failed: ${failure ?? `exit ${code ?? signal}`}${stderr ? `\n${stderr.trim()}` : ''}`,
          ),
        );
    });
    child.send(job);
  });
}

/**
 * Trains every member, at most `workers` at once, each for {@link memberSeconds}; returns each
 * member's report in member order. Members already started are left to finish when one fails (their
 * directories hold complete models); the first failure is then thrown.
 */
export async function trainMembersInParallel(
  options: ParallelTrainOptions,
): Promise<Extract<MemberMessage, { type: 'done' }>[]> {
  const workers = options.workers ?? 2;
  const seconds = memberSeconds(options.seconds, options.members.length, workers);
  const reports: Extract<MemberMessage, { type: 'done' }>[] = new Array(options.members.length);
  let next = 0;
  let failed: unknown = null;
  const worker = async () => {
    while (next < options.members.length && failed === null) {
      const k = next++;
      const { seed, dir } = options.members[k];
      try {
        reports[k] = await runMember(
          {
            file: options.file,
            units: options.units,
            seed,
            seconds,
            dir,
            settings: options.settings,
            backend: options.backend,
            metrics: { member: k + 1, of: options.members.length, seconds },
          },
          (line) => options.onLine?.(k, line),
        );
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, options.members.length) }, worker));
  if (failed !== null) throw failed;
  return reports;
}
