import mqtt, { type MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { EmbeddedBroker, MqttConnection } from '@continuum/messaging';
import { selfSignedCertificate, uniqueId, waitFor, type TestCertificate } from '@continuum/runtime';

/** The embedded broker's TLS listener, packet size limit and per-device publish rate, with real clients. */

async function refusals(registry: Registry, reason: string): Promise<number> {
  const metric = await registry.getSingleMetric('mqtt_broker_refusals_total')?.get();
  return metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

function collect(conn: MqttConnection, topic: string): string[] {
  const got: string[] = [];
  conn.client.on('message', (t, payload) => t === topic && got.push(payload.toString()));
  return got;
}

describe('embedded broker over TLS', () => {
  let cert: TestCertificate;
  let other: TestCertificate;
  let broker: EmbeddedBroker;

  beforeAll(async () => {
    cert = selfSignedCertificate();
    other = selfSignedCertificate();
    broker = await EmbeddedBroker.start({
      port: 0,
      host: '127.0.0.1',
      tls: { cert: cert.cert, key: cert.key, port: 0, host: '127.0.0.1' },
    });
  });
  afterAll(async () => {
    await broker.close();
    cert.remove();
    other.remove();
  });

  it('carries QoS 1 messages between clients that trust its CA', async () => {
    const url = `mqtts://localhost:${broker.tlsPort}`;
    const topic = `tls/${uniqueId()}`;
    const sub = await MqttConnection.open({ url, clientId: `sub-${uniqueId()}`, ca: cert.cert });
    const pub = await MqttConnection.open({ url, clientId: `pub-${uniqueId()}`, ca: cert.cert });
    try {
      expect((sub.client.stream as unknown as { encrypted?: boolean }).encrypted).toBe(true);
      await sub.subscribe(topic, 1);
      const got = collect(sub, topic);
      await pub.publish(topic, 'over tls');
      await waitFor(() => (got.length ? true : undefined), 5000, 'the message over TLS');
      expect(got).toEqual(['over tls']);
    } finally {
      await Promise.all([sub.close(), pub.close()]);
    }
  });

  it('is refused by a client that does not trust its certificate, at once and with the reason', async () => {
    const url = `mqtts://localhost:${broker.tlsPort}`;
    const started = Date.now();
    await expect(MqttConnection.open({ url, clientId: `nca-${uniqueId()}` })).rejects.toThrow(/self[- ]signed/i);
    await expect(MqttConnection.open({ url, clientId: `wrong-${uniqueId()}`, ca: other.cert })).rejects.toThrow(
      /self[- ]signed|unable to verify|signature/i,
    );
    expect(Date.now() - started).toBeLessThan(10_000); // not the 15 s connect timeout
  });

  it('does not speak plain MQTT on the TLS port', async () => {
    await expect(
      MqttConnection.open({
        url: `mqtt://127.0.0.1:${broker.tlsPort}`,
        clientId: `plain-${uniqueId()}`,
        connectTimeoutMs: 2000,
      }),
    ).rejects.toThrow();
  });
});

describe('embedded broker packet size limit', () => {
  const metrics = new Registry();
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1', maxPacketBytes: 4096, metrics });
  });
  afterAll(() => broker.close());

  it('passes packets up to the limit and disconnects a client that sends a larger one, unacknowledged', async () => {
    const topic = `size/${uniqueId()}`;
    const sub = await MqttConnection.open({ url: broker.url, clientId: `sub-${uniqueId()}` });
    const got = collect(sub, topic);
    await sub.subscribe(topic, 1);
    const pub: MqttClient = await mqtt.connectAsync(broker.url, { clientId: `big-${uniqueId()}`, reconnectPeriod: 0 });
    try {
      await pub.publishAsync(topic, Buffer.alloc(3000, 'a'), { qos: 1 });
      const closed = new Promise<void>((r) => pub.once('close', () => r()));
      let acked = false;
      pub.publish(topic, Buffer.alloc(10_000, 'b'), { qos: 1 }, (err) => (acked = !err));
      await closed;
      await new Promise((r) => setTimeout(r, 300));
      expect(acked).toBe(false);
      expect(got.map((p) => p.length)).toEqual([3000]);
      expect(await refusals(metrics, 'packet-too-large')).toBe(1);
    } finally {
      pub.end(true);
      await sub.close();
    }
  });
});

describe('embedded broker per-device publish rate', () => {
  const metrics = new Registry();
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await EmbeddedBroker.start({
      port: 0,
      host: '127.0.0.1',
      metrics,
      publishLimit: { perSecond: 10, burst: 5, key: (_id, username) => (username === 'internal' ? null : username!) },
    });
  });
  afterAll(() => broker.close());

  it('refuses publishes over the rate before PUBACK, counts them, and loses none: the device resends', async () => {
    const topic = `rate/${uniqueId()}`;
    const sub = await MqttConnection.open({ url: broker.url, clientId: `sub-${uniqueId()}`, username: 'internal' });
    const got = collect(sub, topic);
    await sub.subscribe(topic, 1);
    const device = await MqttConnection.open({
      url: broker.url,
      clientId: `dev-${uniqueId()}`,
      username: `device-${uniqueId()}`,
      minReconnectMs: 100,
      maxReconnectMs: 200,
    });
    try {
      const n = 40;
      const started = Date.now();
      await Promise.all(Array.from({ length: n }, (_, i) => device.publish(topic, String(i))));
      const elapsed = Date.now() - started;
      await waitFor(() => (new Set(got).size === n ? true : undefined), 10_000, 'every message');
      expect([...new Set(got)].map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(await refusals(metrics, 'rate-limited')).toBeGreaterThan(0);
      // 5 in the burst, the other 35 at 10/s at best: the broker paced the device.
      expect(elapsed).toBeGreaterThanOrEqual(((n - 5) / 10) * 1000 * 0.9);
    } finally {
      await Promise.all([device.close(), sub.close()]);
    }
  }, 30_000);

  it('does not limit clients whose key is null (the platform) nor a device within its rate', async () => {
    const before = await refusals(metrics, 'rate-limited');
    const topic = `rate/${uniqueId()}`;
    const internal = await MqttConnection.open({
      url: broker.url,
      clientId: `int-${uniqueId()}`,
      username: 'internal',
    });
    const device = await MqttConnection.open({ url: broker.url, clientId: `dev-${uniqueId()}`, username: uniqueId() });
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => internal.publish(topic, String(i))));
      for (let i = 0; i < 8; i++) {
        await device.publish(topic, String(i));
        await new Promise((r) => setTimeout(r, 150));
      }
      expect(await refusals(metrics, 'rate-limited')).toBe(before);
    } finally {
      await Promise.all([device.close(), internal.close()]);
    }
  });
});

describe('MqttConnection.open against a refusing broker', () => {
  it('retries through "server unavailable" and fails at once, with the reason, on bad credentials', async () => {
    let attempts = 0;
    const broker = await EmbeddedBroker.start({
      port: 0,
      host: '127.0.0.1',
      authenticate: (_id, _user, password) => {
        if (++attempts < 3) throw new Error('credentials store not open yet'); // CONNACK 3
        return password?.toString() === 'good';
      },
    });
    try {
      const ok = await MqttConnection.open({
        url: broker.url,
        clientId: `retry-${uniqueId()}`,
        username: 'device',
        password: 'good',
        minReconnectMs: 100,
      });
      await ok.close();
      expect(attempts).toBeGreaterThanOrEqual(3);
      const started = Date.now();
      await expect(
        MqttConnection.open({ url: broker.url, clientId: `bad-${uniqueId()}`, username: 'device', password: 'bad' }),
      ).rejects.toThrow(/Bad username or password/i);
      expect(Date.now() - started).toBeLessThan(10_000); // not the 15 s connect timeout
    } finally {
      await broker.close();
    }
  });
});
