/**
 * One load publisher of `npm run soak` / `npm run overload` (a worker thread, so that the sampling in
 * the main thread keeps its pace): JSON telemetry for its machines, `samples` samples per message
 * (a JSON array when more than one) of the machine's 2-10 sensors, QoS 1, at a rate in readings/s set
 * by the parent, or as fast as a window of unacknowledged messages allows ("max", the capacity probe).
 *
 * A message's first timestamp is its publish time minus `lagMs` (in the past, so that ingestion
 * accepts it; later when a machine would repeat one), the next samples 1 ms apart, so that readings
 * can be found by publish time; sensor `s0` carries the exact publish time (ms) for the latency
 * (commit time - s0). Every sample whose message got its PUBACK is logged as (machine index,
 * timestamp): the ledger the parent checks against the database.
 *
 * A paced publisher keeps at most `maxPaced` messages unacknowledged (a device's buffer). What falls
 * due while that buffer is full is counted as refused (`refusedReadings`: the device tried, the
 * broker's backpressure turned it away) and not sent; what falls due while this thread was starved
 * of CPU for more than a second is counted in `behindS` (the generator did not try). Offered load =
 * sent + refused.
 * Parent -> worker: {type:'rate', readingsPerS} (null = max), {type:'stop'}.
 * Worker -> parent: {type:'ready'}, {type:'progress', ...counters} every second, and after a stop,
 * when every PUBACK is in (or 60 s passed), {type:'ledger', machines, times, count, ...counters}.
 */
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const mqtt = require('mqtt');

const { url, clientId, machines, lagMs, samples, window: maxWindow, maxPaced } = workerData;
// A persistent session (clean: false), as a device that must not lose what it sent should have: after
// a reconnect both sides re-send what was not acknowledged (MQTT 3.1.1, 4.4). At most 65,535 messages
// in flight (the parent checks `maxPaced`): packet identifiers are 16 bits.
const client = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 500 });
client.on('error', () => undefined);

const last = machines.map(() => 0);
let next = 0;
// The counters (all zero), as the parent defines them (scripts/soak.ts `Counters`, with what each means).
const c = { ...workerData.counters };
let rate = 0; // readings/s; null = max
let rateStart = 0;
let offeredAtRateStart = 0;
let stopping = false;
let timer = null;

let cap = 1 << 20;
let ledgerMachines = new Uint16Array(cap);
let ledgerTimes = new Float64Array(cap);
let count = 0;
function logAck(m, ts) {
  if (count === cap) {
    cap *= 2;
    const lm = new Uint16Array(cap);
    lm.set(ledgerMachines);
    ledgerMachines = lm;
    const lt = new Float64Array(cap);
    lt.set(ledgerTimes);
    ledgerTimes = lt;
  }
  ledgerMachines[count] = m;
  ledgerTimes[count] = ts;
  count++;
}

function publishOne() {
  const m = next++ % machines.length;
  const { id, sensors } = machines[m];
  const now = Date.now();
  const first = Math.max(now - lagMs, last[m] + 1);
  last[m] = first + samples - 1;
  let body = samples > 1 ? '[' : '';
  for (let j = 0; j < samples; j++) {
    body += `${j ? ',' : ''}{"ts":${first + j},"values":{"s0":${now}`;
    for (let k = 1; k < sensors; k++) body += `,"s${k}":${(Math.random() * 100).toFixed(3)}`;
    body += '}}';
  }
  if (samples > 1) body += ']';
  const readings = sensors * samples;
  c.sent++;
  c.sentReadings += readings;
  c.inflight++;
  c.inflightReadings += readings;
  client.publish(`plants/soak/machines/${id}/telemetry`, body, { qos: 1 }, (err) => {
    c.inflight--;
    c.inflightReadings -= readings;
    if (err) c.failed++;
    else {
      c.acked++;
      c.ackedReadings += readings;
      for (let j = 0; j < samples; j++) logAck(m, first + j);
    }
    if (rate === null && !stopping) setImmediate(pump);
    if (stopping && c.inflight === 0) finish();
  });
}

function pump() {
  if (stopping) return;
  if (rate === null) {
    while (c.inflight < maxWindow) publishOne();
    return;
  }
  const now = Date.now();
  const offered = () => c.sentReadings + c.refusedReadings;
  let due = (rate * (now - rateStart)) / 1000 - (offered() - offeredAtRateStart);
  if (due > rate) {
    // More than a second behind (this thread was starved): do not burst, count the shortfall.
    c.behindS += due / rate;
    rateStart = now;
    offeredAtRateStart = offered();
    due = 0;
  }
  while (due > 0) {
    if (c.inflight >= maxPaced) {
      // The device's buffer is full: what is due now is refused, not sent later.
      c.refusedReadings += due;
      break;
    }
    const before = c.sentReadings;
    publishOne();
    due -= c.sentReadings - before;
  }
}

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  clearInterval(progress);
  const machinesOut = ledgerMachines.slice(0, count);
  const timesOut = ledgerTimes.slice(0, count);
  client.end(false, () =>
    parentPort.postMessage({ type: 'ledger', machines: machinesOut, times: timesOut, count, ...c }, [
      machinesOut.buffer,
      timesOut.buffer,
    ]),
  );
}

const progress = setInterval(() => parentPort.postMessage({ type: 'progress', ...c }), 1000);
client.once('connect', () => parentPort.postMessage({ type: 'ready' }));
client.on('close', () => {
  if (!stopping) c.closes++; // not the end() after a stop
});
client.on('reconnect', () => c.reconnects++);
parentPort.on('message', (msg) => {
  if (msg.type === 'rate') {
    rate = msg.readingsPerS;
    rateStart = Date.now();
    offeredAtRateStart = c.sentReadings + c.refusedReadings;
    clearInterval(timer);
    if (rate === null) pump();
    else if (rate > 0) timer = setInterval(pump, 5);
  } else if (msg.type === 'stop') {
    stopping = true;
    clearInterval(timer);
    if (c.inflight === 0) finish();
    setTimeout(finish, 60_000).unref();
  }
});
