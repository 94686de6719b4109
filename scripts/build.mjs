#!/usr/bin/env node
// Compiles apps/, libs/ and migrations/ to dist/ with SWC (path aliases rewritten to relative
// imports, decorator metadata kept for NestJS and TypeORM). Type checking is `npm run typecheck`.
//   node scripts/build.mjs             always build
//   node scripts/build.mjs --if-needed build only when a source file is newer than the last build
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = ['apps', 'libs', 'migrations'];
const stamp = join(root, 'dist', '.build-stamp');
// The operator dashboard: plain ES modules served as they are (copied, never compiled).
const dashboard = join(root, 'apps', 'api', 'dashboard');

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

if (process.argv.includes('--if-needed') && existsSync(stamp)) {
  const built = statSync(stamp).mtimeMs;
  const newest = Math.max(...sources.map((s) => newestMtime(join(root, s))), statSync(join(root, '.swcrc')).mtimeMs);
  if (newest <= built) process.exit(0);
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
const swc = join(root, 'node_modules', '.bin', 'swc');
const result = spawnSync(
  swc,
  [
    ...sources,
    '-d',
    'dist',
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
  console.error('build failed');
  process.exit(result.status ?? 1);
}
rmSync(join(root, 'dist', 'apps', 'api', 'dashboard'), { recursive: true, force: true });
cpSync(dashboard, join(root, 'dist', 'apps', 'api', 'dashboard'), { recursive: true });
writeFileSync(stamp, new Date().toISOString());
