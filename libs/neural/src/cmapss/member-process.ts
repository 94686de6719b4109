/**
 * Child process of {@link trainMembersInParallel} (parallel.ts): trains one ensemble member and saves
 * it. It takes its job as the first IPC message, writes progress lines to stdout (training blocks the
 * event loop, and writes to a pipe are synchronous on Linux while IPC messages wait for the loop),
 * sends `done` (or `error`) over IPC and exits.
 */
import { initTensorBackend } from '@continuum/ode';
import { readCmapss } from './data';
import type { MemberJob, MemberMessage } from './parallel';
import { saveRul, trainRul } from './pipeline';

function send(m: MemberMessage): Promise<void> {
  return new Promise((resolve) => process.send!(m, () => resolve()));
}

async function run(job: MemberJob): Promise<void> {
  const startedAt = Date.now();
  const progress = (line: string) => process.stdout.write(`${line}\n`);
  await initTensorBackend({ backend: job.backend, log: progress });
  let engines = readCmapss(job.file);
  if (job.units) {
    const keep = new Set(job.units);
    engines = engines.filter((e) => keep.has(e.unit));
    if (engines.length !== keep.size)
      throw new Error(`${job.file}: ${keep.size - engines.length} of the ${keep.size} requested units are missing`);
  }
  let best: number | null = null;
  let epochs = 0;
  const p = trainRul(engines, {
    ...job.settings,
    seed: job.seed,
    maxSeconds: job.seconds,
    onProgress: (e) => {
      epochs = e.epoch + 1;
      const val = Math.sqrt(e.valLoss ?? NaN) * (job.settings.rulCap ?? 125);
      if (e.best) best = val;
      progress(
        `epoch ${e.epoch + 1}: train RMSE ${e.parts.rmse.toFixed(2)} val RMSE ${val.toFixed(2)} lr ${e.lr.toExponential(2)} NFE/batch ${e.nfeForward.toFixed(0)} ${e.seconds.toFixed(1)} s (total ${e.elapsed.toFixed(0)} s)${e.best ? ' *' : ''}`,
      );
    },
  });
  saveRul(p, job.dir, { ...job.metrics, trainingSeconds: p.seconds, epochs, bestValRmse: best }, job.file);
  p.model.dispose();
  await send({ type: 'done', seconds: p.seconds, epochs, bestValRmse: best, startedAt, endedAt: Date.now() });
}

process.once('message', (job: MemberJob) => {
  run(job)
    .then(() => process.exit(0))
    .catch(async (e: unknown) => {
      await send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      process.exit(1);
    });
});
