/**
 * node -r @swc-node/register bench/broker.bench.ts — what the embedded broker's input limits
 * cost: QoS 1 messages through aedes as shipped before issue 13 (no guard) and with the packet size guard (MQTT_MAX_PACKET_BYTES)
 * and the per-device rate limiter (a bucket large enough never to refuse), in the same run,
 * alternating, printed as ratios. One publisher with up to 1000 messages in flight, one QoS 1
 * subscriber; a round ends when the subscriber has every message.
 *
 * Environment: BENCH_MESSAGES (20000), BENCH_ROUNDS (3), BENCH_PAYLOAD_BYTES (120).
 */
import { loadavg } from 'node:os';
import { performance as perf } from 'node:perf_hooks';
import { EmbeddedBroker, MqttConnection, type EmbeddedBrokerOptions } from '@continuum/messaging';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PAYLOAD = Buffer.alloc(Number(process.env.BENCH_PAYLOAD_BYTES ?? 120), 'x');

const VARIANTS: Record<string, Omit<EmbeddedBrokerOptions, 'port'>> = {
  'no limits': {},
  'packet guard': { maxPacketBytes: 2_097_152 },
  'guard + rate limiter': {
    maxPacketBytes: 2_097_152,
    publishLimit: { perSecond: 1e9, burst: 1e9, key: (_id, username) => username ?? null },
  },
};

async function round(options: Omit<EmbeddedBrokerOptions, 'port'>): Promise<number> {
  const broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1', ...options });
  const sub = await MqttConnection.open({ url: broker.url, clientId: 'bench-sub' });
  const pub = await MqttConnection.open({ url: broker.url, clientId: 'bench-pub', username: 'device-1' });
  try {
    await sub.subscribe('bench/#', 1);
    let received = 0;
    const all = new Promise<void>((resolve) =>
      sub.client.on('message', () => {
        if (++received === MESSAGES) resolve();
      }),
    );
    const started = perf.now();
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < MESSAGES; i++) {
      const p = pub.publish(`bench/m${i % 100}/telemetry`, PAYLOAD).then(() => void inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 1000) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await all;
    return MESSAGES / ((perf.now() - started) / 1000);
  } finally {
    await Promise.all([pub.close(), sub.close()]);
    await broker.close();
  }
}

async function main(): Promise<void> {
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`${MESSAGES} QoS 1 messages of ${PAYLOAD.length} bytes, ${ROUNDS} rounds per variant, alternating`);
  const rates: Record<string, number[]> = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, []]));
  await round({}); // warm-up
  for (let r = 0; r < ROUNDS; r++)
    for (const [name, options] of Object.entries(VARIANTS)) rates[name].push(await round(options));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(rates['no limits']);
  for (const [name, xs] of Object.entries(rates))
    console.log(
      `${name.padEnd(22)} ${Math.round(median(xs)).toString().padStart(7)} msg/s (median; ${xs
        .map((x) => Math.round(x))
        .join(', ')})  ratio to no limits ${(median(xs) / base).toFixed(3)}`,
    );
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

void main();
