import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { initTensorBackend } from '@continuum/ode';
import { createTestDatabase, type TestDatabase } from '@continuum/persistence';
import { startProcess, waitFor, type Infrastructure, type RunningProcess } from '@continuum/runtime';
import { ApiModule } from '../apps/api/src/api.module';
import { T0, TINY_HYPERPARAMETERS, seedSimulatedFleet } from '../apps/training/src/testing/fixtures';
import { TrainingModule } from '../apps/training/src/training.module';
import { ModelRegistry } from '../apps/twin/src/models/model-registry';
import { TwinRepository } from '../apps/twin/src/storage/twin.repository';

jest.setTimeout(240_000);

const ADMIN = 'ck_training_e2e_admin_token_0123456789';

/** The api and the training service in one process, as apps/platform composes them. */
@Module({})
class ApiAndTrainingModule {
  static register(infra: Infrastructure): DynamicModule {
    return {
      module: ApiAndTrainingModule,
      imports: [infra.modules.config, ApiModule.register(infra), TrainingModule.register(infra)],
    };
  }
}

/**
 * Issue 10's acceptance through the REST API (embedded database, simulator data): a job created with
 * `POST /api/v1/training-jobs` is claimed and run by the training service, reports progress on its
 * row, produces a model version with metrics, and activating it through the api makes the twin's
 * model registry run it.
 */
describe('training through the api (embedded database, api + training in one process)', () => {
  let db: TestDatabase;
  let proc: RunningProcess;
  let base: string;
  const checkpoints = fs.mkdtempSync(path.join(os.tmpdir(), 'continuum-training-e2e-'));

  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    await initTensorBackend({ backend: 'cpu', log: () => undefined });
    db = await createTestDatabase('embedded');
    proc = await startProcess(
      {
        role: 'training-e2e',
        rootModule: ApiAndTrainingModule.register,
        configure: ApiModule.configure,
        http: true,
        events: true,
        embedded: true,
      },
      {
        DATABASE_DIR: db.config.mode === 'embedded' ? db.config.dataDir : '',
        PORT: '0',
        HOST: '127.0.0.1',
        MQTT_PORT: '0',
        LOG_LEVEL: 'silent',
        CONTINUUM_ADMIN_TOKEN: ADMIN,
        SIMULATOR_ENABLED: 'false',
        TRAINING_POLL_MS: '200',
        TRAINING_HEARTBEAT_MS: '200',
        TRAINING_CHECKPOINT_DIR: checkpoints,
      },
    );
    base = proc.url!.replace('[::1]', '127.0.0.1');
    await seedSimulatedFleet(proc.infra.database, 'electric-motor', 3, 3);
  });

  afterAll(async () => {
    await proc?.close();
    await db?.drop();
    fs.rmSync(checkpoints, { recursive: true, force: true });
  });

  it('runs a job created with POST /training-jobs and activates its model for the twin', async () => {
    const created = await call('POST', '/api/v1/training-jobs', {
      assetType: 'electric-motor',
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 12 * 3_600_000).toISOString(),
      hyperparameters: TINY_HYPERPARAMETERS,
    });
    expect(created).toMatchObject({ status: 201, body: { status: 'queued' } });
    const id = created.body.id as string;

    const done = await waitFor(
      async () => {
        const j = (await call('GET', `/api/v1/training-jobs/${id}`)).body;
        return j.status === 'succeeded' || j.status === 'failed' ? j : undefined;
      },
      200_000,
      'the training service to run the job',
    );
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'succeeded', fraction: 1, progress: { stage: 'done', epochs: 3 } });
    expect(Number(done.progress.nfeForward)).toBeGreaterThan(0);
    expect(Number(done.progress.nfeBackward)).toBeGreaterThan(0); // adjoint by default
    expect((await call('GET', '/api/v1/training-jobs?status=succeeded')).body.total).toBe(1);

    const version = (await call('GET', `/api/v1/models/${done.modelId}`)).body;
    expect(version).toMatchObject({ assetType: 'electric-motor', version: 1, kind: 'ode-rnn', status: 'candidate' });
    expect(version.metrics.valLoss).toEqual(expect.any(Number));
    expect(version.trainingJobId).toBe(id);

    const twin = new ModelRegistry('models/default', new TwinRepository(proc.infra.database));
    try {
      expect(twin.modelFor('electric-motor')?.version).toBe('default:electric-motor');
      expect((await call('POST', `/api/v1/models/${done.modelId}/activate`)).status).toBe(200);
      expect(await twin.poll()).toEqual(['electric-motor']);
      expect(twin.modelFor('electric-motor')?.version).toBe('electric-motor@v1');
    } finally {
      twin.dispose();
    }
  });
});
