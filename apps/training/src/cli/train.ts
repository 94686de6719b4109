/**
 * `npm run train -- --asset-type <t> [--from <iso> --to <iso> --machines a,b --kind ode-rnn|latent-ode
 *   --method dopri5 --gradient adjoint|backprop --epochs N --lr X --hidden N --window N --batch-size N]`
 *
 * Queues a training job and runs it in the foreground (this process is its training service), with
 * a progress bar; the finished job is a candidate model version (`npm run models -- list`).
 * Uses DATABASE_URL, else the embedded database in DATABASE_DIR.
 */
import { loadConfig } from '@continuum/config';
import type { TrainingProgressEvent } from '@continuum/contracts';
import { initTensorBackend } from '@continuum/ode';
import { Database, ModelsRepository, TrainingJobsRepository } from '@continuum/persistence';
import { TrainingDataRepository } from '../data/training-data.repository';
import { TrainingEvents, TrainingRunner } from '../engine/training-runner.service';
import { TrainingJobsService } from '../jobs/training-jobs.service';
import { parseArgs, progressBar } from './cli-args';

class BarEvents extends TrainingEvents {
  async progress(e: TrainingProgressEvent): Promise<void> {
    const nfe = `nfe ${e.nfeForward.toFixed(0)}/${e.nfeBackward === null ? '-' : e.nfeBackward.toFixed(0)}`;
    const val = e.validation.valLoss !== undefined ? ` val ${e.validation.valLoss.toFixed(3)}` : '';
    const eta = e.etaSeconds !== null ? ` eta ${e.etaSeconds.toFixed(0)} s` : '';
    const line = `${progressBar(e.status === 'running' ? e.epoch + 1 : e.epochs, e.epochs)} loss ${e.loss?.toFixed(3) ?? '-'}${val} ${nfe}${eta}`;
    process.stdout.write(process.stdout.isTTY ? `\r${line}` : `${line}\n`);
    if (e.status !== 'running') process.stdout.write('\n');
  }
}

const HP_FLAGS: Record<string, string> = {
  epochs: 'epochs',
  lr: 'lr',
  hidden: 'hidden',
  window: 'window',
  'batch-size': 'batchSize',
  'batches-per-epoch': 'batchesPerEpoch',
  augment: 'augment',
  patience: 'patience',
  rtol: 'rtol',
  atol: 'atol',
  seed: 'seed',
};

async function main(): Promise<void> {
  const { options } = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  await initTensorBackend({ backend: process.env.CONTINUUM_TF_BACKEND ?? 'wasm' });
  const db = await Database.open(config.database);
  try {
    const jobsRepo = new TrainingJobsRepository(db.dataSource);
    const data = new TrainingDataRepository(db.dataSource);
    const jobs = new TrainingJobsService(jobsRepo, data);
    const hyperparameters: Record<string, string> = {};
    for (const [flag, key] of Object.entries(HP_FLAGS))
      if (typeof options[flag] === 'string') hyperparameters[key] = options[flag] as string;
    const job = await jobs.create({
      assetType: options['asset-type'],
      machineIds: typeof options.machines === 'string' ? options.machines.split(',') : undefined,
      from: options.from,
      to: options.to,
      modelKind: options.kind,
      solver: options.method,
      gradient: options.gradient,
      hyperparameters,
    });
    console.log(`job ${job.id}: ${job.modelKind} for ${job.assetType}, ${job.solver} (${job.gradient})`);
    const runner = new TrainingRunner(
      { ...config.training, worker: false },
      jobsRepo,
      new ModelsRepository(db.dataSource),
      data,
      new BarEvents(),
    );
    const stop = () => void runner.stop('shutdown');
    process.once('SIGINT', stop);
    const claimed = await jobsRepo.claim(job.id);
    if (!claimed) throw new Error(`job ${job.id} was taken by a running training service`);
    await runner.start(claimed);
    const done = await jobs.get(job.id);
    console.log(
      done.status === 'succeeded'
        ? `succeeded: model ${done.modelId} (${job.assetType} v${String(done.progress.modelVersion)}); activate with npm run models -- activate ${done.modelId}`
        : `${done.status}${done.error ? `: ${done.error}` : ''}`,
    );
    process.exitCode = done.status === 'succeeded' ? 0 : 1;
  } finally {
    await db.close();
  }
}

main().catch((err: Error & { status?: number }) => {
  console.error(`train: ${err.message}`);
  process.exit(err.status ? 2 : 1);
});
