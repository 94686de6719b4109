#!/usr/bin/env node
/**
 * `npm run cluster -- --ingestion 2 --twin 2 [--api 1 --alerting 1 --training 1 --simulator 1]`:
 * the multi-process topology on this machine (every app its own process) against DATABASE_URL and
 * MQTT_URL. Output lines are prefixed with the instance (`[twin-2] ...`); Ctrl-C stops everything
 * cleanly. See scripts/cluster/cluster.ts for the programmatic API the fault-injection suite uses.
 */
import { parseArgs } from 'node:util';
import { APP_NAMES, Cluster, DEFAULT_SIMULATOR_ARGS, type ClusterApp } from './cluster/cluster';

const USAGE = `npm run cluster -- [options]     (needs DATABASE_URL and MQTT_URL)
  --api <n> --ingestion <n> --twin <n> --alerting <n> --training <n> --simulator <n>
                           instances of each app                [api 1, ingestion 2, twin 2, alerting 1, others 0]
  --prefix <p>             MQTT client id prefix and shared-subscription group         [cluster]
  --simulator-args="<a>"   arguments of the simulator CLI (npm run simulate -- --help)
                           ["${DEFAULT_SIMULATOR_ARGS.join(' ')}"]
  --log-level <l>          LOG_LEVEL of every instance                                  [info]`;

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      ...Object.fromEntries(APP_NAMES.map((app) => [app, { type: 'string' as const }])),
      prefix: { type: 'string', default: 'cluster' },
      'simulator-args': { type: 'string', default: DEFAULT_SIMULATOR_ARGS.join(' ') },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (a.help) {
    console.log(USAGE);
    return;
  }
  const { DATABASE_URL, MQTT_URL } = process.env;
  if (!DATABASE_URL || !MQTT_URL) throw new Error('set DATABASE_URL and MQTT_URL (every app runs in external mode)');
  const defaults: Record<ClusterApp, number> = {
    api: 1,
    ingestion: 2,
    twin: 2,
    alerting: 1,
    training: 0,
    simulator: 0,
  };
  const counts = Object.fromEntries(
    APP_NAMES.map((app) => {
      const text = (a as unknown as Record<string, string | undefined>)[app];
      const n = text === undefined ? defaults[app] : Number(text);
      if (!Number.isInteger(n) || n < 0 || n > 32) throw new Error(`--${app}: expected 0..32, got "${text}"`);
      return [app, n];
    }),
  ) as Record<ClusterApp, number>;

  const started = Date.now();
  const cluster = await Cluster.create({
    counts,
    databaseUrl: DATABASE_URL,
    mqttUrl: MQTT_URL,
    prefix: a.prefix,
    env: { LOG_LEVEL: a['log-level'] },
    simulatorArgs: a['simulator-args'].split(/\s+/).filter(Boolean),
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the cluster...');
    cluster.stop().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`cluster: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await cluster.startAll();
  console.log(`\ncluster up in ${((Date.now() - started) / 1000).toFixed(1)} s:`);
  for (const i of cluster.instances)
    console.log(`  ${i.name.padEnd(14)} pid ${String(i.pid).padEnd(8)} ${i.port ? `http://127.0.0.1:${i.port}` : ''}`);
  console.log('Ctrl-C stops every instance.\n');
}

main().catch((err: Error) => {
  console.error(`cluster: ${err.message}`);
  process.exit(1);
});
