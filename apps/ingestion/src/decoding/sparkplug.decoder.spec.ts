import { get as getSparkplug } from 'sparkplug-payload';
import type { UMetric } from 'sparkplug-payload/lib/sparkplugbpayload';
import { parseSparkplugTopic } from '@continuum/contracts';
import { SparkplugDecoder } from './sparkplug.decoder';

const sparkplug = getSparkplug('spBv1.0')!;
const NOW = Date.parse('2026-06-01T12:00:00Z');

function decoder() {
  const d = new SparkplugDecoder({ maxFutureMs: 300_000, maxAgeMs: 0 });
  const send = (topic: string, seq: number | undefined, metrics: Partial<UMetric>[]) =>
    d.decode(
      parseSparkplugTopic(topic)!,
      Buffer.from(sparkplug.encodePayload({ timestamp: NOW, seq, metrics: metrics as UMetric[] })),
      NOW,
    );
  return { d, send };
}

const controlOnly: Partial<UMetric>[] = [
  { name: 'bdSeq', type: 'UInt64', value: 0 },
  { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
];

describe('SparkplugDecoder: which edge nodes and devices are machines', () => {
  it('does not make a machine of an edge node whose birth carries only bdSeq and Node Control', () => {
    const { send } = decoder();
    const birth = send('spBv1.0/g1/NBIRTH/gw', 0, controlOnly);
    expect(birth.rejection).toBeUndefined();
    expect(birth.machines).toEqual([]);
    expect(birth.readings).toEqual([]);
    // The birth is still an event of the node (seq tracking, the API's connection history).
    expect(birth.events.map((e) => [e.machineId, e.kind])).toEqual([['gw', 'birth']]);
  });

  it('registers a device at its birth with the numeric metrics it declares, values or not', () => {
    const { send } = decoder();
    send('spBv1.0/g1/NBIRTH/gw', 0, controlOnly);
    const birth = send('spBv1.0/g1/DBIRTH/gw/press', 1, [
      { name: 'Motor/Temp', alias: 1, type: 'Double', value: null, isNull: true },
      { name: 'Pressure', alias: 2, type: 'Int32', value: 7 },
      { name: 'Running', alias: 3, type: 'Boolean', value: true },
      { name: 'Label', alias: 4, type: 'String', value: 'press one' },
    ]);
    expect(birth.machines).toEqual([{ id: 'gw.press', plantId: 'g1', sensors: ['Motor.Temp', 'Pressure', 'Running'] }]);
    expect(birth.readings.map((r) => [r.sensor, r.value])).toEqual([
      ['Pressure', 7],
      ['Running', 1],
    ]);
    const data = send('spBv1.0/g1/DDATA/gw/press', 2, [{ alias: 1, type: 'Double', value: 61.5 }]);
    expect(data.machines).toEqual([{ id: 'gw.press', plantId: 'g1', sensors: ['Motor.Temp'] }]);
  });

  it('makes a machine of an edge node with sensors of its own (birth or data)', () => {
    const { send } = decoder();
    const birth = send('spBv1.0/g1/NBIRTH/gw', 0, [
      ...controlOnly,
      { name: 'cpu', alias: 1, type: 'Float', value: 0.5 },
    ]);
    expect(birth.machines).toEqual([{ id: 'gw', plantId: 'g1', sensors: ['cpu'] }]);

    const other = decoder();
    expect(other.send('spBv1.0/g1/NBIRTH/gw2', 0, controlOnly).machines).toEqual([]);
    const data = other.send('spBv1.0/g1/NDATA/gw2', 1, [{ name: 'temp', type: 'Double', value: 40 }]);
    expect(data.machines).toEqual([{ id: 'gw2', plantId: 'g1', sensors: ['temp'] }]);
  });

  it('marks only machines stale at NDEATH: the devices, and the node only when it is one', () => {
    const { send } = decoder();
    send('spBv1.0/g1/NBIRTH/gw', 0, controlOnly);
    send('spBv1.0/g1/DBIRTH/gw/a', 1, [{ name: 'x', alias: 1, type: 'Double', value: 1 }]);
    send('spBv1.0/g1/DBIRTH/gw/b', 2, [{ name: 'y', alias: 2, type: 'Double', value: 2 }]);
    const death = send('spBv1.0/g1/NDEATH/gw', undefined, [{ name: 'bdSeq', type: 'UInt64', value: 0 }]);
    expect(death.stale.map((s) => s.machineId).sort()).toEqual(['gw.a', 'gw.b']);
    expect(death.events.map((e) => e.machineId).sort()).toEqual(['gw.a', 'gw.b']);

    const withSensors = decoder();
    withSensors.send('spBv1.0/g1/NBIRTH/gw', 0, [{ name: 'cpu', alias: 1, type: 'Float', value: 0.5 }]);
    withSensors.send('spBv1.0/g1/DBIRTH/gw/a', 1, [{ name: 'x', alias: 2, type: 'Double', value: 1 }]);
    const death2 = withSensors.send('spBv1.0/g1/NDEATH/gw', undefined, []);
    expect(death2.stale.map((s) => s.machineId).sort()).toEqual(['gw', 'gw.a']);
  });
});
