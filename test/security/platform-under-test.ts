import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@continuum/persistence';
import { selfSignedCertificate, waitFor, type TestCertificate } from '@continuum/runtime';

const root = join(__dirname, '..', '..');

/** One answer of the platform's HTTPS server. */
export interface Answer {
  status: number;
  type: string;
  text: string;
  body: any;
}

/**
 * The whole platform (apps/platform/src/main.ts, compiled on the fly by swc-node, so no shared
 * dist/ is involved) in a child process whose every output line is kept, on a fresh database of
 * the mode, with HTTPS, MQTT over TLS and device authentication on.
 */
export interface PlatformUnderTest {
  cert: TestCertificate;
  httpsPort: number;
  mqttTlsPort: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** The JSON log lines so far (other lines skipped). */
  logLines(): Record<string, any>[];
  /** An HTTPS request with the path sent as it is (no URL normalisation: `..` stays). */
  call(method: string, path: string, token: string | null, body?: unknown): Promise<Answer>;
  close(): Promise<void>;
}

export async function startPlatform(
  mode: 'embedded' | 'external',
  env: Record<string, string>,
): Promise<PlatformUnderTest> {
  const cert = selfSignedCertificate();
  let testDb: TestDatabase | undefined;
  let child: ChildProcess | undefined;
  try {
    testDb = await createTestDatabase(mode);
    const dbEnv =
      testDb.config.mode === 'external' ? { DATABASE_URL: testDb.config.url } : { DATABASE_DIR: testDb.config.dataDir };
    let output = '';
    child = spawn(process.execPath, ['-r', '@swc-node/register', join(root, 'apps/platform/src/main.ts')], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        LOG_LEVEL: 'info',
        PORT: '0',
        HOST: '127.0.0.1',
        MQTT_PORT: '0',
        MQTT_TLS_PORT: '0',
        HTTP_TLS_CERT_FILE: cert.certFile,
        HTTP_TLS_KEY_FILE: cert.keyFile,
        MQTT_TLS_CERT_FILE: cert.certFile,
        MQTT_TLS_KEY_FILE: cert.keyFile,
        MQTT_DEVICE_AUTH: 'true',
        SIMULATOR_ENABLED: 'false',
        TRAINING_CHECKPOINT_DIR: join(dirname(cert.certFile), 'training'),
        ...dbEnv,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = child;
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    const started = await waitFor(
      () => {
        if (gone) throw new Error(`the platform exited during start:\n${output.slice(-3000)}`);
        return (
          /started on https:\/\/127\.0\.0\.1:(\d+) \(.*broker embedded on :\d+, TLS on :(\d+)\)/.exec(output) ??
          undefined
        );
      },
      180_000,
      'the platform to start',
    );
    const httpsPort = Number(started[1]);
    const call: PlatformUnderTest['call'] = (method, path, token, body) =>
      new Promise<Answer>((resolve, reject) => {
        const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: httpsPort,
            method,
            path,
            ca: cert.cert,
            headers: {
              ...(token && { authorization: `Bearer ${token}` }),
              ...(payload !== undefined && {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(payload),
              }),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (text += d));
            res.on('end', () => {
              const type = String(res.headers['content-type'] ?? '');
              let parsed: unknown;
              if (type.includes('json') && text) parsed = JSON.parse(text);
              resolve({ status: res.statusCode!, type, text, body: parsed });
            });
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    return {
      cert,
      httpsPort,
      mqttTlsPort: Number(started[2]),
      output: () => output,
      logLines: () =>
        output
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .flatMap((l) => {
            try {
              return [JSON.parse(l) as Record<string, any>];
            } catch {
              return [];
            }
          }),
      call,
      close: async () => {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
        await testDb!.drop();
        cert.remove();
      },
    };
  } catch (err) {
    child?.kill('SIGKILL');
    await testDb?.drop().catch(() => undefined);
    cert.remove();
    throw err;
  }
}
