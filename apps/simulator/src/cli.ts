#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { EmbeddedBroker } from '@continuum/messaging';
import { parseDuration, parseFaultPlan } from './plant/faults';
import { GroundTruthWriter } from './plant/ground-truth';
import { DEFAULT_NETWORK } from './plant/network';
import { Plant, type Protocol } from './plant/plant';
import { SimulationRunner } from './runner/simulation-runner';

/** Relative to the repository root, where `npm run simulate` runs. */
const DEFAULT_CMAPSS = resolve('../shared/datasets/cmapss/train_FD001.txt');

const USAGE = `npm run simulate -- [options]
  --machines <n>          physical machines (pumps, motors, compressors in turn)   [50]
  --speed <x>             simulated seconds per real second                       [3600]
  --seed <s>              random seed: the same seed gives the same message stream [1]
  --protocol <p>          json | sparkplug | mixed                                 [json]
  --faults <spec>         random=<per machine per day>, duration=<mean>, or
                          <machine>:<sensor>:<step|drift|stuck|dead|spikes>@<start>[+<dur>][=<mag>]  [none]
  --cmapss [file]         also replay a C-MAPSS file as turbofans   [../shared/datasets/cmapss/train_FD001.txt]
  --cmapss-interval <d>   simulated time per engine cycle                          [10m]
  --cmapss-drop <p>       probability of dropping a cycle                          [0.05]
  --cmapss-limit <n>      replay only the first n engines
  --mqtt-url <url>        broker, or "embedded" (aedes on MQTT_PORT, default a free port) [MQTT_URL or mqtt://127.0.0.1:1883]
  --qos <0|1>             QoS of every publish                                     [1]
  --duration <d>          stop after this much simulated time (e.g. 30d)           [run until Ctrl-C]
  --start <t>             simulated start: ISO-8601, "now" or "-<duration>"         [now]
  --catch-up              never run past the wall clock (accelerated until now, then real time)
  --ground-truth <file>   write faults, failures, regimes, outages as JSON lines
  --plant <id>            plant id (Sparkplug group)                               [plant-1]
  --drop <p> --duplicates <p> --malformed <p>   network loss, duplicates, malformed messages [0.01, 0.005, 0]
  --tick <d>              real time between steps                                  [200ms]`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const ci = argv.indexOf('--cmapss');
  if (ci >= 0 && (ci === argv.length - 1 || argv[ci + 1].startsWith('--'))) argv.splice(ci + 1, 0, DEFAULT_CMAPSS);
  const { values: a } = parseArgs({
    args: argv,
    options: {
      machines: { type: 'string', default: '50' },
      speed: { type: 'string', default: '3600' },
      seed: { type: 'string', default: '1' },
      protocol: { type: 'string', default: 'json' },
      faults: { type: 'string' },
      cmapss: { type: 'string' },
      'cmapss-interval': { type: 'string', default: '10m' },
      'cmapss-drop': { type: 'string', default: '0.05' },
      'cmapss-limit': { type: 'string' },
      'mqtt-url': { type: 'string', default: process.env.MQTT_URL || 'mqtt://127.0.0.1:1883' },
      qos: { type: 'string', default: '1' },
      duration: { type: 'string' },
      start: { type: 'string', default: 'now' },
      'catch-up': { type: 'boolean', default: false },
      'ground-truth': { type: 'string' },
      plant: { type: 'string', default: 'plant-1' },
      drop: { type: 'string', default: String(DEFAULT_NETWORK.dropRate) },
      duplicates: { type: 'string', default: String(DEFAULT_NETWORK.duplicateRate) },
      malformed: { type: 'string', default: '0' },
      tick: { type: 'string', default: '200ms' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (a.help) {
    console.log(USAGE);
    return;
  }
  const num = (name: string, text: string, min = 0, max = Infinity) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`--${name}: expected a number in [${min}, ${max}], got "${text}"`);
    return n;
  };
  const protocol = a.protocol as Protocol | 'mixed';
  if (!['json', 'sparkplug', 'mixed'].includes(protocol))
    throw new Error(`--protocol: expected json, sparkplug or mixed`);
  const qos = num('qos', a.qos, 0, 1) as 0 | 1;
  const startMs =
    a.start === 'now'
      ? Date.now()
      : a.start.startsWith('-')
        ? Date.now() - parseDuration(a.start.slice(1)) * 1000
        : Date.parse(a.start);
  if (!Number.isFinite(startMs))
    throw new Error(`--start: expected ISO-8601, "now" or "-<duration>", got "${a.start}"`);
  const plant = new Plant({
    plantId: a.plant,
    seed: /^\d+$/.test(a.seed) ? Number(a.seed) : a.seed,
    machines: num('machines', a.machines, 0),
    protocol,
    startMs,
    faults: parseFaultPlan(a.faults),
    network: {
      ...DEFAULT_NETWORK,
      dropRate: num('drop', a.drop, 0, 1),
      duplicateRate: num('duplicates', a.duplicates, 0, 1),
    },
    malformedRate: num('malformed', a.malformed, 0, 1),
    ...(a.cmapss && {
      cmapss: {
        file: a.cmapss,
        interval: parseDuration(a['cmapss-interval']),
        dropRate: num('cmapss-drop', a['cmapss-drop'], 0, 1),
        limit: a['cmapss-limit'] ? num('cmapss-limit', a['cmapss-limit'], 1) : undefined,
      },
    }),
  });
  let broker: EmbeddedBroker | undefined;
  let url = a['mqtt-url'];
  if (url === 'embedded') {
    broker = await EmbeddedBroker.start({ port: Number(process.env.MQTT_PORT ?? 0) });
    url = broker.url;
  }
  const groundTruth = a['ground-truth'] ? new GroundTruthWriter(a['ground-truth'], startMs) : undefined;
  let last = { at: Date.now(), messages: 0, readings: 0 };
  const runner = new SimulationRunner(plant, {
    url,
    clientIdPrefix: process.env.MQTT_CLIENT_ID || 'continuum',
    username: process.env.MQTT_USERNAME,
    password: process.env.MQTT_PASSWORD,
    qos,
    speed: num('speed', a.speed, 0.001),
    tickMs: parseDuration(a.tick) * 1000,
    catchUp: a['catch-up'],
    duration: a.duration ? parseDuration(a.duration) : undefined,
    groundTruth,
    onTick: (s, p, d) => {
      const now = Date.now();
      if (now - last.at < 1000) return;
      const secs = (now - last.at) / 1000;
      const line =
        `sim ${new Date(startMs + s.simSeconds * 1000).toISOString().slice(0, 16)}Z | ` +
        `${Math.round((s.messages - last.messages) / secs)} msg/s | ${Math.round((s.readings - last.readings) / secs)} readings/s | ` +
        `${p.slots.length} machines (${p.failedNow} down) | ${s.failures} failures | ${s.lost} lost, ${s.duplicated} dup, ${s.malformed} malformed | ` +
        `${d.noSubscribers} unreceived (0x10), ${d.resent} re-sent, ${d.held} held, ${d.dropped} dropped`;
      process.stderr.write(process.stderr.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
      last = { at: now, messages: s.messages, readings: s.readings };
    },
  });
  await runner.start();
  console.error(
    `simulating ${plant.slots.length} machines of plant ${a.plant} (${protocol}, seed ${a.seed}, x${a.speed}) -> ${url}`,
  );
  const stop = async () => {
    await runner.stop();
    const d = runner.delivery;
    await groundTruth?.close();
    await broker?.close();
    const s = plant.stats;
    console.error(
      `\nstopped: ${s.messages} messages, ${s.readings} readings, ${s.failures} failures over ${(s.simSeconds / 86400).toFixed(2)} simulated days; ` +
        `${d.noSubscribers} PUBACKs "no matching subscribers", ${d.resent} re-sent, ${d.dropped} dropped from full buffers`,
    );
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
  if (a.duration) {
    await runner.finished();
    await stop();
  }
}

main().catch((err: Error) => {
  console.error(`continuum simulator: ${err.message.split('\n')[0]}`);
  process.exit(1);
});
