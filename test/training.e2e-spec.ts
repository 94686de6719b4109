import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { twinMessageSchema, type TwinMessage } from '@continuum/contracts';
import { MqttConnection } from '@continuum/messaging';
import { initTensorBackend } from '@continuum/ode';
import { createTestDatabase, type TestDatabase } from '@continuum/persistence';
import { startProcess, uniqueId, waitFor, type RunningProcess } from '@continuum/runtime';
import { io, type Socket } from 'socket.io-client';
import type { LiveTrainingProgress } from '../apps/api/src/live/live.events';
import { ApiModule } from '../apps/api/src/api.module';
import { PlatformModule } from '../apps/platform/src/platform.module';
import { TINY_HYPERPARAMETERS } from '../apps/training/src/testing/fixtures';

/**
 * Issue 10's acceptance, end to end: the whole platform in one process as `npm start` composes it
 * (apps/platform's PlatformModule on embedded defaults: PGlite+TimescaleDB in a fresh directory, aedes
 * on a free port), its simulated plant producing history (started a day back, accelerated). Through
 * the REST API a training job for the electric motors is created; the training service runs it and
 * reports progress (socket.io `training-progress` and the job row); it produces a model version with
 * validation metrics; activating that version through the API makes the running twin use it: the
 * twin's MQTT messages for the motors then carry `modelVersion` `electric-motor@v1`.
 */
jest.setTimeout(180_000);

const root = path.join(__dirname, '..');
const ADMIN = `ck_training_e2e_${uniqueId()}_0123456789`;
const ASSET_TYPE = 'electric-motor';
/** Simulated seconds per real second: a simulated hour every 3 s, so the plant is still accelerated after activation. */
const SPEED = 1200;
/** Readings each motor should have before the job is created (about 1.5 simulated hours; windows of 8). */
const MIN_READINGS_PER_MOTOR = 200;
const EPOCHS = 6;
/**
 * Batches per epoch: enough work that an epoch outlasts the 10 ms live-event window even on a quiet
 * machine (4 epochs of 2 tiny batches once took under 10 ms in all, and their events merged into one).
 */
const BATCHES_PER_EPOCH = 24;

describe('training on simulator data through the API (platform in one process, embedded defaults)', () => {
  let db: TestDatabase;
  let proc: RunningProcess;
  let base: string;
  let sub: MqttConnection;
  let socket: Socket;
  const checkpoints = fs.mkdtempSync(path.join(os.tmpdir(), 'continuum-training-e2e-'));
  const twins: { at: number; message: TwinMessage }[] = [];
  const progress: LiveTrainingProgress[] = [];

  const call = async (method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    // The backend the twin and the training service share (the platform's default).
    await initTensorBackend({ backend: 'wasm', log: () => undefined });
    db = await createTestDatabase('embedded');
    proc = await startProcess(
      {
        role: 'platform',
        rootModule: PlatformModule.register,
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
        MQTT_CLIENT_ID: `training-e2e-${uniqueId()}`,
        LOG_LEVEL: 'error',
        CONTINUUM_ADMIN_TOKEN: ADMIN,
        // The fastest live-event rate (a 10 ms coalescing window): at the default 2 a second, a tiny
        // job on a quiet machine finished inside one window and its epochs merged into the final event.
        API_LIVE_EVENTS_PER_SECOND: '100',
        SIMULATOR_ENABLED: 'true',
        // Five machines: pump, motor, compressor, pump, motor — two motors, one held out for validation.
        SIMULATOR_MACHINES: '5',
        SIMULATOR_SPEED: String(SPEED),
        SIMULATOR_SEED: '1',
        TWIN_MODELS_DIR: path.join(root, 'models/default'),
        TWIN_MODEL_POLL_MS: '500',
        TWIN_PREDICTIONS_INTERVAL_MS: '0',
        TWIN_FORECAST_INTERVAL_MS: '0',
        ALERTING_WEBHOOK_URLS: '',
        TRAINING_POLL_MS: '200',
        TRAINING_HEARTBEAT_MS: '500',
        TRAINING_CHECKPOINT_DIR: checkpoints,
      },
    );
    base = proc.url!.replace('[::1]', '127.0.0.1');
    sub = await MqttConnection.open({ url: proc.infra.messaging.url, clientId: `training-e2e-sub-${uniqueId()}` });
    sub.client.on('message', (_topic, payload) => {
      const parsed = twinMessageSchema.safeParse(JSON.parse(payload.toString()));
      if (parsed.success) twins.push({ at: Date.now(), message: parsed.data });
    });
    await sub.subscribe(['plants/+/machines/+/twin'], 1);
    socket = io(`${base}/live`, { auth: { token: ADMIN }, transports: ['websocket'], reconnection: false });
    socket.on('training-progress', (p: LiveTrainingProgress) => void progress.push(p));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
  }, 120_000);

  afterAll(async () => {
    socket?.disconnect();
    await sub?.close();
    await proc?.close();
    await db?.drop();
    fs.rmSync(checkpoints, { recursive: true, force: true });
  });

  it('trains a model on the simulated history, reports progress, and the twin runs it once activated', async () => {
    // The simulated plant registers its machines and streams its (accelerated) history.
    const motors = await waitFor(
      async () => {
        const page = (await call('GET', `/api/v1/machines?assetType=${ASSET_TYPE}`)).body;
        const items = (page.items ?? page) as { id: string; assetType: string }[];
        const ids = items.filter((m) => m.assetType === ASSET_TYPE).map((m) => m.id);
        return ids.length === 2 ? ids : undefined;
      },
      60_000,
      'the simulated plant to register its two motors',
    );
    const counts = async () =>
      (
        (await proc.infra.database.dataSource.query(
          `SELECT machine_id AS id, count(*)::int AS n, min(time) AS first, max(time) AS last
             FROM readings WHERE machine_id = ANY($1) GROUP BY machine_id`,
          [motors],
        )) as { id: string; n: number; first: Date; last: Date }[]
      ).map((r) => ({ ...r, first: new Date(r.first), last: new Date(r.last) }));
    const history = await waitFor(
      async () => {
        const c = await counts();
        return c.length === 2 && c.every((r) => r.n >= MIN_READINGS_PER_MOTOR) ? c : undefined;
      },
      90_000,
      `${MIN_READINGS_PER_MOTOR} stored readings per motor`,
    );
    // The history is simulated a day back: the readings are in the past, not at the wall clock.
    expect(Math.max(...history.map((r) => r.last.getTime()))).toBeLessThan(Date.now() - 3_600_000);

    // Every twin message so far ran the shipped default model.
    const motorTwins = () => twins.filter((t) => motors.includes(t.message.machineId));
    await waitFor(() => motorTwins().length > 0 || undefined, 30_000, 'twin messages for the motors');
    expect(new Set(motorTwins().map((t) => t.message.modelVersion))).toEqual(new Set([`default:${ASSET_TYPE}`]));

    // A job through the API, over the history stored so far.
    const from = new Date(Math.min(...history.map((r) => r.first.getTime())));
    const to = new Date(Math.max(...history.map((r) => r.last.getTime())) + 1);
    const created = await call('POST', '/api/v1/training-jobs', {
      assetType: ASSET_TYPE,
      from: from.toISOString(),
      to: to.toISOString(),
      hyperparameters: {
        ...TINY_HYPERPARAMETERS,
        epochs: EPOCHS,
        patience: EPOCHS,
        batchesPerEpoch: BATCHES_PER_EPOCH,
      },
    });
    expect(created).toMatchObject({ status: 201, body: { status: 'queued', assetType: ASSET_TYPE } });
    const id = created.body.id as string;

    // It runs: progress on the job row (polled) and as socket.io events, epoch by epoch.
    const polled: { status: string; epoch: number | null; fraction: number }[] = [];
    const done = await waitFor(
      async () => {
        const j = (await call('GET', `/api/v1/training-jobs/${id}`)).body;
        polled.push({ status: j.status, epoch: j.progress?.epoch ?? null, fraction: j.fraction });
        return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
      },
      120_000,
      'the training service to run the job',
    );
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'succeeded', fraction: 1, progress: { stage: 'done', epochs: EPOCHS } });
    expect(done.progress.nfeForward).toBeGreaterThan(0);
    expect(done.progress.nfeBackward).toBeGreaterThan(0); // the adjoint by default
    // The polled fraction never goes back, and was seen strictly between 0 and 1 while running.
    const fractions = polled.map((p) => p.fraction);
    fractions.forEach((f, i) => i === 0 || expect(f).toBeGreaterThanOrEqual(fractions[i - 1]));

    const events = await waitFor(
      () => {
        const mine = progress.filter((p) => p.jobId === id);
        return mine.some((p) => p.status === 'succeeded') ? mine : undefined;
      },
      10_000,
      'the final training-progress event',
    );
    const running = events.filter((p) => p.status === 'running');
    // Events are coalesced per job (API_LIVE_EVENTS_PER_SECOND, 10 ms here), so some epochs may be
    // merged; at least one mid-training epoch arrives before the end, and epochs never go back.
    expect(running.length).toBeGreaterThan(0);
    expect(running[0].epoch).toBeLessThan(EPOCHS - 1);
    events.forEach((p, i) => i === 0 || expect(p.epoch).toBeGreaterThanOrEqual(events[i - 1].epoch));
    expect(running.every((p) => p.epochs === EPOCHS && Number.isFinite(p.loss))).toBe(true);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ status: 'succeeded', modelId: done.modelId, epoch: EPOCHS - 1, error: null });
    expect(Number(last.nfeForward)).toBeGreaterThan(0);
    expect(
      polled.some((p) => p.status === 'running' && p.fraction > 0 && p.fraction < 1) ||
        running.some((p) => p.epoch < EPOCHS - 1),
    ).toBe(true);

    // A model version with validation metrics, trained on both motors' range.
    const version = (await call('GET', `/api/v1/models/${done.modelId}`)).body;
    expect(version).toMatchObject({
      assetType: ASSET_TYPE,
      version: 1,
      kind: 'ode-rnn',
      status: 'candidate',
      trainingJobId: id,
    });
    expect(Number.isFinite(version.metrics.valLoss)).toBe(true);
    expect(Number.isFinite(version.metrics.valMse)).toBe(true);
    expect(version.metrics.epochs).toBe(EPOCHS);
    expect([...version.trainingData.machines].sort()).toEqual([...motors].sort());
    expect(version.trainingData.validationMachines).toHaveLength(1);
    expect(version.normalisation.features).toEqual(expect.arrayContaining(['current', 'speed', 'vibration_rms']));

    // Activation through the API: the running twin picks it up and its messages say so.
    const activated = await call('POST', `/api/v1/models/${done.modelId}/activate`);
    expect(activated).toMatchObject({
      status: 200,
      body: { model: { id: done.modelId, status: 'active' }, previous: null },
    });
    const activatedAt = Date.now();
    const after = await waitFor(
      () => {
        const seen = motorTwins().filter((t) => t.message.modelVersion === `${ASSET_TYPE}@v1`);
        return new Set(seen.map((t) => t.message.machineId)).size === 2 ? seen : undefined;
      },
      60_000,
      `twin messages of both motors with modelVersion ${ASSET_TYPE}@v1`,
    );
    expect(Math.min(...after.map((t) => t.at))).toBeGreaterThanOrEqual(activatedAt);
    for (const t of after) {
      // The new model's prediction covers the sensors it was trained on.
      expect(Object.keys(t.message.prediction)).toEqual(expect.arrayContaining(version.normalisation.features));
      expect(Number.isFinite(t.message.anomalyScore)).toBe(true);
    }
    // Other asset types keep their shipped default models.
    const others = twins.filter((t) => !motors.includes(t.message.machineId) && t.at >= activatedAt);
    expect(others.every((t) => t.message.modelVersion.startsWith('default:'))).toBe(true);
  });
});
