import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@continuum/runtime';

/**
 * The platform as a newcomer runs it: the built `dist/apps/platform/src/main.js` in its own
 * process, on embedded defaults (PGlite+TimescaleDB in a fresh data directory, aedes).
 */
const root = join(__dirname, '..');
const mainJs = join(root, 'dist/apps/platform/src/main.js');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startPlatform(env: Record<string, string>): Started {
  let output = '';
  const child = spawn(process.execPath, [mainJs], {
    cwd: root,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

beforeAll(() => {
  const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--if-needed'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
}, 120_000);

describe('platform process', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'continuum-e2e-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves /health with status ok on embedded defaults, and shuts down cleanly on SIGTERM', async () => {
    const started = Date.now();
    const p = startPlatform({ DATABASE_DIR: dataDir, PORT: '0', MQTT_PORT: '0' });
    try {
      const url = await waitFor(
        () => /started on (http:\/\/[^ ]+)/.exec(p.output())?.[1],
        60_000,
        'the platform to start',
      );
      const res = await fetch(`${url}/health`);
      const body = await res.json();
      expect(res.status).toBe(200);
      expect(body).toMatchObject({
        status: 'ok',
        info: {
          database: { status: 'up', mode: 'embedded', timescaledb: expect.stringMatching(/^2\./) },
          broker: { status: 'up' },
        },
      });
      expect(Date.now() - started).toBeLessThan(60_000);

      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(p.output()).toContain('stopped; database closed');
    } finally {
      p.child.kill('SIGKILL');
    }
  }, 90_000);

  it('refuses a bad configuration value with one line and exit code 1', async () => {
    const p = startPlatform({ DATABASE_DIR: dataDir, DATABASE_URL: 'nonsense' });
    expect(await p.exited).toBe(1);
    expect(p.output().trim()).toBe(
      'continuum platform: Invalid environment variables: DATABASE_URL: expected a PostgreSQL URL such as postgres://user:password@host:5432/database',
    );
  });

  it('refuses a port that is taken with one line and exit code 1, before opening the database', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = startPlatform({ DATABASE_DIR: dataDir, PORT: String(port), MQTT_PORT: '0' });
      expect(await p.exited).toBe(1);
      expect(p.output().trim()).toBe(
        `continuum platform: HTTP port ${port} is already in use (set PORT to a free port)`,
      );
      expect(readdirSync(dataDir)).toEqual([]); // the database was never opened
      expect(p.output()).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      blocker.close();
    }
  }, 60_000);
});
