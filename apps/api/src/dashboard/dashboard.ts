import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The operator dashboard's directory: `apps/api/dashboard` (plain ES modules, no build step),
 * found from the sources (tests, swc-node) and from the compiled `dist/apps/api/src`.
 */
export function dashboardDir(): string {
  const candidates = [join(__dirname, '..', '..', 'dashboard'), join(__dirname, '../../../../../apps/api/dashboard')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found) throw new Error(`the dashboard files are missing (looked in ${candidates.join(', ')})`);
  return found;
}

/**
 * Serves the dashboard at `/` and uPlot from node_modules at `/vendor/uplot/` (the socket.io client
 * comes from the socket.io server at `/socket.io/socket.io.esm.min.js`). Nothing is fetched from a
 * CDN: the platform runs without internet.
 */
export function serveDashboard(app: INestApplication): void {
  const express = app as NestExpressApplication;
  express.useStaticAssets(dirname(require.resolve('uplot')), { prefix: '/vendor/uplot/', immutable: false });
  express.useStaticAssets(dashboardDir(), { index: 'index.html' });
}
