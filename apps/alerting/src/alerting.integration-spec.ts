import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InternalEvent, alertsTopic, type AlertMessage, type TwinMessage } from '@continuum/contracts';
import { createTestDatabase, type AlertEntity, type TestDatabase } from '@continuum/persistence';
import { SeededRandom } from './testing/synthetic';
import { alertingModes, startAlerting, unique, waitFor, type AlertingHarness } from './testing/alerting-harness';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhook } from './notifications/webhook.dispatcher';

const SECRET = 'test-webhook-secret-0123456789';

/** A local webhook receiver: records requests, answers `status`. */
async function receiver(status: number) {
  const requests: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * Reading time between twin updates: 4 minutes, so that a fault of 30 updates lasts two hours of the
 * machine's time, well past the divergence rule's 60-minute hold (holdMinutes; its statistic
 * reaches the raise level about 5 updates into the fault).
 */
const STEP_MS = 240_000;

/** Twin updates of a machine, one every STEP_MS ending now; sensor `vib` shifted by 5σ from update `shiftFrom` on. */
function twinUpdates(plantId: string, machineId: string, n: number, seed: number, shiftFrom = Infinity): TwinMessage[] {
  const rng = new SeededRandom(seed);
  const t0 = Date.now() - n * STEP_MS;
  return Array.from({ length: n }, (_, i) => {
    const residuals = { vib: rng.normal() + (i >= shiftFrom ? 5 : 0), temp: rng.normal(), flow: rng.normal() };
    const z = Object.values(residuals);
    return {
      plantId,
      machineId,
      ts: t0 + i * STEP_MS,
      modelVersion: 'test',
      prediction: { vib: { mean: 2, std: 0.1 }, temp: { mean: 60, std: 1 }, flow: { mean: 100, std: 1 } },
      residuals,
      anomalyScore: z.reduce((a, b) => a + b * b, 0) / z.length,
      nfe: 12,
      solverError: 1e-4,
    };
  });
}

describe.each(alertingModes())('alerting ($name)', ({ db, mqttUrl }) => {
  let database: TestDatabase;
  let h: AlertingHarness;
  let good: Awaited<ReturnType<typeof receiver>>;
  let failing: Awaited<ReturnType<typeof receiver>>;
  const plant = `p${unique()}`;

  beforeAll(async () => {
    [good, failing] = await Promise.all([receiver(200), receiver(500)]);
    database = await createTestDatabase(db);
    h = await startAlerting(database.config, {
      mqttUrl,
      env: {
        ALERTING_TICK_MS: '200',
        ALERTING_TOUCH_INTERVAL_MS: '0',
        // The failing receiver comes first: it must not hold up the good one.
        ALERTING_WEBHOOK_URLS: `${failing.url},${good.url}`,
        ALERTING_WEBHOOK_SECRET: SECRET,
        ALERTING_WEBHOOK_MAX_ATTEMPTS: '3',
        ALERTING_WEBHOOK_BACKOFF_MS: '50',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await database?.drop();
    await good?.close();
    await failing?.close();
  });

  const alertsOf = (machineId: string) =>
    h.query<{ id: string; rule_id: string; status: string; count: number; severity: string; details: any }>(
      `SELECT id, rule_id, status, count, severity, details FROM alerts WHERE machine_id = $1 ORDER BY raised_at`,
      [machineId],
    );

  it('a fault injected into one machine raises an alert on every channel; healthy machines raise none', async () => {
    const faulty = `m${unique()}`;
    const healthy = [`h${unique()}`, `h${unique()}`];
    const mqtt = await h.subscriber([alertsTopic(plant), InternalEvent.AlertChanged]);

    const streams = [
      twinUpdates(plant, faulty, 50, 1, 20),
      ...healthy.map((m, i) => twinUpdates(plant, m, 50, 10 + i)),
    ];
    for (let i = 0; i < 50; i++) for (const s of streams) await h.bus.emit(InternalEvent.TwinUpdated, s[i]);

    const [alert] = await waitFor(
      async () => {
        const rows = (await alertsOf(faulty)).filter((r) => r.rule_id === 'default-divergence');
        return rows.length ? rows : undefined;
      },
      20_000,
      'the divergence alert',
    );
    expect(alert).toMatchObject({ status: 'open', severity: 'major', details: { sensor: 'vib', direction: 'up' } });

    const onTopic = await waitFor(
      () => mqtt.messages.find((m) => m.topic === alertsTopic(plant) && JSON.parse(m.payload).id === alert.id),
      10_000,
      'the MQTT alert message',
    );
    expect(JSON.parse(onTopic.payload)).toMatchObject({ machineId: faulty, status: 'open', kind: 'divergence' });
    const onBus = await waitFor(
      () =>
        mqtt.messages.find(
          (m) => m.topic === InternalEvent.AlertChanged && (JSON.parse(m.payload).data as AlertMessage).id === alert.id,
        ),
      10_000,
      'the AlertChanged event',
    );
    expect(JSON.parse(onBus.payload).data).toMatchObject({ plantId: plant, ruleId: 'default-divergence' });

    const hook = await waitFor(
      () => good.requests.find((r) => JSON.parse(r.body).alert.id === alert.id),
      10_000,
      'the webhook POST',
    );
    expect(
      verifyWebhook(SECRET, String(hook.headers[TIMESTAMP_HEADER]), hook.body, String(hook.headers[SIGNATURE_HEADER])),
    ).toBe(true);
    expect(
      verifyWebhook(
        'another-secret-0123456789',
        String(hook.headers[TIMESTAMP_HEADER]),
        hook.body,
        String(hook.headers[SIGNATURE_HEADER]),
      ),
    ).toBe(false);
    expect(JSON.parse(hook.body)).toMatchObject({ event: 'alert.changed', change: 'raised' });

    // The failing receiver was tried and retried, then dead-lettered, without blocking the good one.
    await waitFor(
      () => (h.webhooks.deadLetters.some((d) => d.url === failing.url) ? true : undefined),
      10_000,
      'the dead letter',
    );
    expect(failing.requests.length).toBeGreaterThanOrEqual(3);

    await h.alerts.handleTwinUpdate(twinUpdates(plant, healthy[0], 1, 99)[0]); // flush that machine's queue
    for (const m of healthy) expect(await alertsOf(m)).toEqual([]);
  });

  it('acknowledge, comment and resolve record who and when; duplicates merge into one unresolved alert', async () => {
    const machine = `m${unique()}`;
    for (const u of twinUpdates(plant, machine, 30, 2, 5)) await h.alerts.handleTwinUpdate(u);
    const [row] = (await alertsOf(machine)).filter((r) => r.rule_id === 'default-divergence');
    expect(row.count).toBe(1);

    let alert: AlertEntity = await h.alerts.acknowledge(row.id, 'operator-anna', 'looking at it');
    expect(alert.status).toBe('acknowledged');
    await expect(h.alerts.acknowledge(row.id, 'operator-bob')).rejects.toThrow('is acknowledged');
    await h.alerts.comment(row.id, 'operator-anna', 'bearing noise');
    // Two days later (the time-aware statistic has drained over the gap): normal, then the fault
    // again. The retrigger merges into the acknowledged alert.
    const later = Date.now() + 48 * 3_600_000;
    for (const u of twinUpdates(plant, machine, 50, 3, 20).map((u, i) => ({ ...u, ts: later + i * STEP_MS })))
      await h.alerts.handleTwinUpdate(u);
    const merged = (await alertsOf(machine)).filter((r) => r.rule_id === 'default-divergence');
    expect(merged).toHaveLength(1);
    expect(merged[0].count).toBe(2);

    alert = await h.alerts.resolve(row.id, 'operator-bob', 'replaced the bearing');
    expect(alert.history.map((t) => [t.from, t.to, t.by])).toEqual([
      [null, 'open', 'alerting'],
      ['open', 'acknowledged', 'operator-anna'],
      ['acknowledged', 'acknowledged', 'operator-anna'],
      ['acknowledged', 'resolved', 'operator-bob'],
    ]);
    expect(alert.history.every((t) => !Number.isNaN(Date.parse(t.at)))).toBe(true);
  });

  it('a forecast crossing a failure threshold raises a predictive alert with the RUL distribution and a draft work order', async () => {
    const machine = `m${unique()}`;
    const hour = 3_600_000;
    const [update] = twinUpdates(plant, machine, 1, 4);
    const before = Date.now();
    await h.alerts.handleTwinUpdate({
      ...update,
      forecast: {
        horizonMs: 24 * hour,
        samples: 32,
        rulMs: { p10: 10 * hour, p50: 20 * hour, p90: 40 * hour },
        crossingProbability: { vib: 0.8, temp: 0.01 },
      },
    });
    const [row] = (await alertsOf(machine)).filter((r) => r.rule_id === 'default-forecast');
    expect(row).toMatchObject({ status: 'open', details: { sensor: 'vib', rulMs: { p10: 10 * hour } } });
    const [order] = await h.query<{ status: string; due_by: Date; alert_ids: string[] }>(
      `SELECT status, due_by, alert_ids FROM work_orders WHERE machine_id = $1`,
      [machine],
    );
    expect(order.status).toBe('draft');
    expect(order.alert_ids).toEqual([row.id]);
    expect(new Date(order.due_by).getTime() - before).toBeGreaterThanOrEqual(10 * hour - 5000);
    expect(new Date(order.due_by).getTime() - before).toBeLessThanOrEqual(10 * hour + 60_000);
  });

  it('rules are stored, validated and scoped; a machine rule replaces the default for that machine', async () => {
    const machine = `m${unique()}`;
    await expect(
      h.rules.create({ name: 'bad', detector: 'residual-cusum', raiseAt: 3, clearAt: 5, severity: 'minor' }),
    ).rejects.toThrow();
    const rule = await h.rules.create({
      name: 'sensitive vib',
      machineId: machine,
      detector: 'residual-cusum',
      sensors: ['vib'],
      raiseAt: 4,
      clearAt: 1,
      severity: 'critical',
      autoClearMs: 0,
    });
    expect((await h.rules.update(rule.id, { severity: 'warning' })).severity).toBe('warning');
    // With a rule stored, the defaults no longer apply to anyone.
    for (const u of twinUpdates(plant, machine, 12, 5, 4)) await h.alerts.handleTwinUpdate(u);
    const rows = await alertsOf(machine);
    expect(rows.map((r) => [r.rule_id, r.severity])).toEqual([[rule.id, 'warning']]);
    await h.rules.delete(rule.id);
    expect(await h.rules.list()).toEqual([]);
  });
});
