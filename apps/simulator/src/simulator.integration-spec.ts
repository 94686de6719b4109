import mqtt from 'mqtt';
import { get as getSparkplug } from 'sparkplug-payload';
import { EmbeddedBroker } from '@continuum/messaging';
import { Plant } from './plant/plant';
import { SimulationRunner } from './runner/simulation-runner';

const sparkplug = getSparkplug('spBv1.0')!;

describe('simulator -> embedded broker', () => {
  it('delivers every machine’s readings over JSON and Sparkplug B, within the configured drop rate', async () => {
    const broker = await EmbeddedBroker.start({ port: 0 });
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'sim-test-sub' });
    const received = new Map<string, number>();
    const types = new Set<string>();
    const aliases = new Set<string>();
    sub.on('message', (topic, payload) => {
      if (topic.startsWith('spBv1.0/')) {
        const [, , type, node, device] = topic.split('/');
        types.add(type);
        const p = sparkplug.decodePayload(payload);
        if (type === 'DBIRTH') for (const m of p.metrics ?? []) aliases.add(`${node}.${device}/${Number(m.alias)}`);
        if (type === 'DDATA')
          for (const m of p.metrics ?? []) {
            expect(aliases.has(`${node}.${device}/${Number(m.alias)}`)).toBe(true);
            received.set(`${node}.${device}`, (received.get(`${node}.${device}`) ?? 0) + 1);
          }
      } else {
        const id = topic.split('/')[3];
        const body = JSON.parse(payload.toString());
        for (const s of Array.isArray(body) ? body : [body])
          received.set(id, (received.get(id) ?? 0) + Object.keys(s.values).length);
      }
    });
    await sub.subscribeAsync(['plants/+/machines/+/telemetry', 'spBv1.0/#'], { qos: 1 });
    const plant = new Plant({ machines: 6, protocol: 'mixed', seed: 9, startMs: Date.now() - 86400_000 });
    const runner = new SimulationRunner(plant, {
      url: broker.url,
      clientIdPrefix: 'test',
      qos: 1,
      speed: 86400 * 5,
      tickMs: 50,
      catchUp: false,
      duration: 6 * 3600,
    });
    try {
      await runner.start();
      await runner.finished();
      await runner.stop();
      const deadline = Date.now() + 10_000;
      const total = () => [...received.values()].reduce((a, b) => a + b, 0);
      while (total() < plant.stats.readings && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(total()).toBe(plant.stats.readings);
      expect([...types].sort()).toEqual(['DBIRTH', 'DDATA', 'NBIRTH', 'NDEATH']);
      const dropRate = plant.options.network.dropRate;
      for (const m of plant.machines) {
        expect(received.get(m.machineId) ?? 0).toBeGreaterThan(0);
        const expected = (6 * m.sensors.reduce((n, _s, i) => n + [60, 60, 30, 12, 20][i % 5], 0)) / 2;
        expect(received.get(m.machineId)).toBeGreaterThan(expected * (1 - dropRate) * 0.5);
      }
      expect(
        plant.machines.some((m) => m.protocol === 'json') && plant.machines.some((m) => m.protocol === 'sparkplug'),
      ).toBe(true);
    } finally {
      await runner.stop();
      await sub.endAsync();
      await broker.close();
    }
  });
});
