#!/usr/bin/env node
// Compiles apps/, libs/ and migrations/ to dist/ with SWC (path aliases rewritten to relative
// imports, decorator metadata kept for NestJS and TypeORM). Type checking is `npm run typecheck`.
//   node scripts/build.mjs             always build
//   node scripts/build.mjs --if-needed build only when a source file is newer than the last build
//
// Several builds may start at once (test files that run dist/ in child processes, in parallel jest
// workers; `npm start` in two terminals). They take turns through a lock directory, a waiting
// `--if-needed` build finds the fresh stamp and does nothing, and each build compiles into a
// directory of its own and swaps it in, so dist/ never stands half-deleted under a running process.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = ['apps', 'libs', 'migrations'];
const dist = join(root, 'dist');
const stamp = join(dist, '.build-stamp');
const lock = join(root, '.build-lock');
// The operator dashboard: plain ES modules served as they are (copied, never compiled).
const dashboard = join(root, 'apps', 'api', 'dashboard');
/** A lock older than this is left over from a killed build and is taken over. */
const STALE_LOCK_MS = 5 * 60_000;
const LOCK_WAIT_MS = 10 * 60_000;

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts') || path.startsWith(dashboard))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function upToDate() {
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  const newest = Math.max(...sources.map((s) => newestMtime(join(root, s))), statSync(join(root, '.swcrc')).mtimeMs);
  return newest <= built;
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function acquireLock() {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) {
        console.error(`build: taking over a stale lock ${lock}`);
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
    } catch {
      continue; // released between mkdir and stat
    }
    if (Date.now() > deadline) {
      console.error(
        `build: another build has held ${lock} for over ${LOCK_WAIT_MS / 60_000} min; remove it if no build runs`,
      );
      process.exit(1);
    }
    if (!announced) console.error('build: waiting for another build to finish');
    announced = true;
    sleep(200);
  }
}

const ifNeeded = process.argv.includes('--if-needed');
if (ifNeeded && upToDate()) process.exit(0);

acquireLock();
let status = 0;
try {
  // Another build may have finished while this one waited.
  if (!(ifNeeded && upToDate())) status = build();
} finally {
  rmSync(lock, { recursive: true, force: true });
}
process.exit(status);

function build() {
  const out = join(root, `.dist-build-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const swc = join(root, 'node_modules', '.bin', 'swc');
  const result = spawnSync(
    swc,
    [
      ...sources,
      '-d',
      out,
      '--config-file',
      '.swcrc',
      '--ignore',
      '**/*.spec.ts,**/*.integration-spec.ts',
      '--copy-files',
      '--quiet',
    ],
    { cwd: root, stdio: 'inherit' },
  );
  if (result.status !== 0) {
    rmSync(out, { recursive: true, force: true });
    console.error('build failed');
    return result.status ?? 1;
  }
  cpSync(dashboard, join(out, 'apps', 'api', 'dashboard'), { recursive: true });
  writeFileSync(join(out, '.build-stamp'), new Date().toISOString());
  // Swap: the old tree moves aside in one rename and the new one takes its place in another.
  const old = join(root, `.dist-old-${process.pid}`);
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(out, dist);
  rmSync(old, { recursive: true, force: true });
  return 0;
}
