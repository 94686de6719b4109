/**
 * Preloaded into every app process of `npm run soak` / `npm run overload` (NODE_OPTIONS="--require
 * scripts/soak/heap-probe.cjs"): every SOAK_PROBE_INTERVAL_MS (default 2,000) appends one JSON line
 * with the process's memory (process.memoryUsage(): rss, heapUsed, heapTotal, external,
 * arrayBuffers, in bytes) and the event loop delay p99 over the interval (ms) to
 * `$SOAK_PROBE_DIR/<pid>.jsonl`. The apps' own code is untouched, and the twin (no HTTP server)
 * is covered like the others. Does nothing without SOAK_PROBE_DIR.
 */
'use strict';
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');

const dir = process.env.SOAK_PROBE_DIR;
// Only the app's main thread (not worker threads, which inherit NODE_OPTIONS).
if (dir && require('node:worker_threads').isMainThread) {
  const file = join(dir, `${process.pid}.jsonl`);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const sample = () => {
    const m = process.memoryUsage();
    const line = {
      t: Date.now(),
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      loopP99Ms: delay.percentile(99) / 1e6,
    };
    delay.reset();
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // the soak script removed the directory: it is over
    }
  };
  setInterval(sample, Number(process.env.SOAK_PROBE_INTERVAL_MS ?? 2000)).unref();
  sample();
}
