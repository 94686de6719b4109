import mqtt from 'mqtt';
import { testDatabaseModes } from '@continuum/persistence';
import { startApiHarness, TEST_ADMIN_TOKEN as ADMIN, type ApiHarness } from '../testing/api-harness';

/** MQTT device credentials on the embedded broker with MQTT_DEVICE_AUTH=true. */
describe.each(testDatabaseModes())('device credentials (%s database)', (mode) => {
  let api: ApiHarness;
  let brokerUrl: string;
  const clients: mqtt.MqttClient[] = [];

  const connect = async (username?: string, password?: string) => {
    const client = await mqtt.connectAsync(brokerUrl, { username, password, reconnectPeriod: 0, connectTimeout: 5000 });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    api = await startApiHarness(mode, { MQTT_DEVICE_AUTH: 'true' });
    brokerUrl = api.proc.infra.broker!.url;
    for (const [id, plantId] of [
      ['d1', 'p1'],
      ['d2', 'p1'],
    ])
      expect((await api.call('POST', '/api/v1/machines', ADMIN, { id, plantId, assetType: 'pump' })).status).toBe(201);
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await api?.close();
  });

  it('issues a credential once (admin), with 401, 403 and 404 as due', async () => {
    const issued = await api.call('POST', '/api/v1/machines/d1/credentials', ADMIN);
    expect(issued).toMatchObject({
      status: 201,
      body: { machineId: 'd1', username: 'd1', topicPrefix: 'plants/p1/machines/d1/', password: expect.any(String) },
    });
    expect((await api.call('POST', '/api/v1/machines/d1/credentials', await api.keyFor('operator'))).status).toBe(403);
    expect((await api.call('POST', '/api/v1/machines/d1/credentials', null)).status).toBe(401);
    expect((await api.call('POST', '/api/v1/machines/nope/credentials', ADMIN)).status).toBe(404);
    expect((await api.call('DELETE', '/api/v1/machines/d2/credentials', ADMIN)).status).toBe(404);
  });

  it('authenticates devices and confines them to their own machine topics', async () => {
    const { password } = (await api.call('POST', '/api/v1/machines/d1/credentials', ADMIN)).body;
    await expect(connect()).rejects.toThrow();
    await expect(connect('d1', 'wrong')).rejects.toThrow(/Bad username or password|Not authorized/i);

    // The platform's own connection (internal credential) watches every telemetry topic.
    const internal = api.proc.infra.mqtt;
    const seen: string[] = [];
    internal.client.on('message', (topic) => seen.push(topic));
    await internal.subscribe('plants/+/machines/+/telemetry', 1);

    const device = await connect('d1', password);
    // Refused subscriptions are granted QoS 128, which mqtt.js reports as an error.
    await expect(device.subscribeAsync('#')).rejects.toThrow(/Subscribe error/);
    await expect(device.subscribeAsync('plants/p1/machines/d2/#')).rejects.toThrow(/Subscribe error/);
    const mine = await device.subscribeAsync('plants/p1/machines/d1/commands');
    expect(mine[0].qos).not.toBe(128);
    await device.publishAsync('plants/p1/machines/d1/telemetry', '{"ts":1,"values":{"t":1}}', { qos: 1 });

    const intruder = await connect('d1', password);
    const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    intruder.publish('plants/p1/machines/d2/telemetry', '{"ts":1,"values":{"t":99}}', { qos: 0 });
    await closed;
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toContain('plants/p1/machines/d1/telemetry');
    expect(seen).not.toContain('plants/p1/machines/d2/telemetry');
  });

  it('refuses a revoked credential', async () => {
    const { password } = (await api.call('POST', '/api/v1/machines/d2/credentials', ADMIN)).body;
    (await connect('d2', password)).end(true);
    expect((await api.call('DELETE', '/api/v1/machines/d2/credentials', ADMIN)).status).toBe(204);
    await expect(connect('d2', password)).rejects.toThrow();
  });
});
