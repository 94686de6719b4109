/**
 * Preloaded into every app process of `npm run soak` / `npm run overload` (NODE_OPTIONS="--require
 * scripts/soak/heap-probe.cjs"): every SOAK_PROBE_INTERVAL_MS (default 2,000) appends one JSON line
 * with the process's memory (process.memoryUsage(): rss, heapUsed, heapTotal, external,
 * arrayBuffers, in bytes) and the event loop delay p99 over the interval (ms) to
 * `$SOAK_PROBE_DIR/<pid>.jsonl`. The apps' own code is untouched, and the twin (no HTTP server)
 * is covered like the others. Does nothing without SOAK_PROBE_DIR.
 *
 * Retained heap: every SOAK_RETAINED_INTERVAL_MS (default 30,000; 0 = off), on its own timer, the
 * probe forces a full garbage collection and appends a line with `retained` (heapUsed right after
 * it, bytes), `gcMs` (the pause) and `t`. heapUsed sampled at random moments is a sawtooth whose
 * floor moves with when V8 chooses to collect (old space grows for minutes before a major GC), so
 * its slope swings by several MiB/min with load; the heap after a forced full collection is what
 * the process actually keeps. The cost is one stop-the-world full GC per interval: on the shared
 * 2-core development machine a median of 27 ms for a 20 MiB heap of small objects and 156 ms
 * (93-482) for 100 MiB (docs/reliability.md, "Soak and overload").
 */
'use strict';
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');

/**
 * `gc()` without `--expose-gc` on the command line (NODE_OPTIONS may not carry V8 flags the apps'
 * launchers do not expect): set the flag at run time, then take the function from a fresh context,
 * where V8 installs it.
 */
function exposeGc() {
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('heap-probe: could not expose gc()');
  return gc;
}

const dir = process.env.SOAK_PROBE_DIR;
// Only the app's main thread (not worker threads, which inherit NODE_OPTIONS).
if (dir && require('node:worker_threads').isMainThread) {
  const file = join(dir, `${process.pid}.jsonl`);
  const write = (line) => {
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // the soak script removed the directory: it is over
    }
  };
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
    write(line);
  };
  setInterval(sample, Number(process.env.SOAK_PROBE_INTERVAL_MS ?? 2000)).unref();
  sample();

  const retainedEvery = Number(process.env.SOAK_RETAINED_INTERVAL_MS ?? 30_000);
  if (retainedEvery > 0) {
    const gc = exposeGc();
    setInterval(() => {
      const t0 = performance.now();
      gc();
      const gcMs = Math.round((performance.now() - t0) * 10) / 10;
      write({ t: Date.now(), retained: process.memoryUsage().heapUsed, gcMs });
    }, retainedEvery).unref();
  }
}
