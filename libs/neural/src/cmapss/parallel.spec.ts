import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initTensorBackend } from '@continuum/ode';
import { CMAPSS_COLUMNS } from './data';
import { disposeRulEnsemble, loadRulEnsemble, predictRulEnsemble, writeRulEnsembleManifest } from './ensemble';
import { memberSeconds, type ParallelTrainOptions, trainMembersInParallel } from './parallel';
import { syntheticEngines } from './synthetic-engines';

/** C-MAPSS text: `unit cycle` then the 24 columns, one row per cycle. */
function cmapssText(engines: ReturnType<typeof syntheticEngines>): string {
  const C = CMAPSS_COLUMNS.length;
  return engines
    .flatMap((e) => e.cycles.map((c, i) => [e.unit, c, ...Array.from(e.rows.subarray(i * C, (i + 1) * C))].join(' ')))
    .join('\n');
}

describe('memberSeconds', () => {
  it('shares the budget out by rounds of workers', () => {
    expect(memberSeconds(1080, 4, 2)).toBe(540);
    expect(memberSeconds(900, 3, 2)).toBe(450); // two rounds, the second with one member
    expect(memberSeconds(900, 3, 1)).toBe(300);
    expect(memberSeconds(900, 1, 4)).toBe(900);
  });

  it('refuses budgets and counts that make no sense', () => {
    expect(() => memberSeconds(0, 2, 2)).toThrow(/budget must be positive/);
    expect(() => memberSeconds(10, 0, 2)).toThrow(/members must be a positive integer/);
    expect(() => memberSeconds(10, 2, 1.5)).toThrow(/workers must be a positive integer/);
  });
});

describe('trainMembersInParallel (child processes)', () => {
  let dir: string;
  let file: string;
  const engines = syntheticEngines(6, 50, 3, 0.05);
  const settings: ParallelTrainOptions['settings'] = {
    window: 10,
    batchSize: 8,
    stepsPerEpoch: 2,
    valCuts: 2,
    epochs: 1000,
    model: { hiddenDim: 6, odeHidden: [6], headHidden: [4] },
  };

  beforeAll(async () => {
    await initTensorBackend({ backend: 'cpu', log: () => undefined });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rul-parallel-'));
    file = path.join(dir, 'train.txt');
    fs.writeFileSync(file, cmapssText(engines));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains every member, at most `workers` at once, and saves a loadable ensemble', async () => {
    const out = path.join(dir, 'ensemble');
    const members = [1, 2, 3].map((j) => ({ seed: j, dir: path.join(out, `member-${j}`) }));
    const lines: [number, string][] = [];
    const reports = await trainMembersInParallel({
      file,
      units: [1, 2, 3, 4, 5],
      members,
      seconds: 6, // two rounds of 3 s
      workers: 2,
      settings,
      backend: 'cpu',
      onLine: (j, line) => lines.push([j, line]),
    });
    expect(reports).toHaveLength(3);
    for (const r of reports) {
      expect(r.epochs).toBeGreaterThan(0);
      expect(r.seconds).toBeLessThan(3 + 1); // the budget ends a run (an epoch may finish after it)
      expect(Number.isFinite(r.bestValRmse)).toBe(true);
    }
    // Every member reported progress lines of its own.
    for (const j of [0, 1, 2]) expect(lines.some(([k, l]) => k === j && /^epoch 1: train RMSE/.test(l))).toBe(true);
    // Two ran together and the third after one of them: never three at once.
    const overlap = (a: (typeof reports)[0], b: (typeof reports)[0]) =>
      a.startedAt < b.endedAt && b.startedAt < a.endedAt;
    expect(overlap(reports[0], reports[1])).toBe(true);
    expect(reports[2].startedAt).toBeGreaterThanOrEqual(Math.min(reports[0].endedAt, reports[1].endedAt));

    writeRulEnsembleManifest(
      out,
      members.map((m) => m.dir),
      {},
    );
    const ensemble = loadRulEnsemble(out);
    expect(ensemble.members).toHaveLength(3);
    expect(ensemble.members[0].window).toBe(10);
    const rul = predictRulEnsemble(ensemble, engines.slice(5));
    expect(rul[0]).toBeGreaterThanOrEqual(0);
    expect(rul[0]).toBeLessThanOrEqual(125);
    disposeRulEnsemble(ensemble);
  }, 60_000);

  it("fails with the child's message when a member cannot train", async () => {
    await expect(
      trainMembersInParallel({
        file,
        units: [1, 99],
        members: [{ seed: 1, dir: path.join(dir, 'bad') }],
        seconds: 2,
        settings,
        backend: 'cpu',
      }),
    ).rejects.toThrow(/seed 1 failed: .*1 of the 2 requested units are missing/);
    expect(fs.existsSync(path.join(dir, 'bad'))).toBe(false);
  }, 30_000);

  it('fails, naming the signal, when a member dies without a word (kill -9)', async () => {
    const lines: string[] = [];
    const run = trainMembersInParallel({
      file,
      units: [1, 2, 3, 4, 5],
      members: [{ seed: 1, dir: path.join(dir, 'killed') }],
      seconds: 60,
      settings,
      backend: 'cpu',
      onLine: (_j, line) => lines.push(line),
    });
    // Once it trains, kill the member process: this process's child running member-process.
    while (!lines.some((l) => l.startsWith('epoch '))) await new Promise((r) => setTimeout(r, 50));
    const [pid] = childProcesses().filter((c) => c.cmdline.includes('member-process'));
    expect(pid).toBeDefined();
    process.kill(pid.pid, 'SIGKILL');
    await expect(run).rejects.toThrow(/member with seed 1 failed: exit SIGKILL/);
    expect(fs.existsSync(path.join(dir, 'killed', 'model.json'))).toBe(false);
  }, 60_000);
});

/** This process's children (Linux /proc), with their command lines. */
function childProcesses(): { pid: number; cmdline: string }[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        // pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== process.pid) return [];
        return [{ pid: Number(d), cmdline: fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ') }];
      } catch {
        return []; // exited while we looked
      }
    });
}
