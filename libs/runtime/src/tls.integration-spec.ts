import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import { request } from 'node:https';
import { startProcess, selfSignedCertificate, type Infrastructure, type TestCertificate } from '@continuum/runtime';

/** HTTPS and the embedded broker's TLS files as a process reads them at start. */

@Controller('ping')
class PingController {
  @Get()
  ping() {
    return { pong: true };
  }
}

@Module({ controllers: [PingController] })
class PingModule {}

const spec = {
  role: 'tls-test',
  rootModule: (infra: Infrastructure): DynamicModule => ({ module: PingModule, imports: [infra.modules.config] }),
  http: true,
  events: false,
  embedded: true,
};
const base = { PORT: '0', HOST: '127.0.0.1', MQTT_PORT: '0', LOG_LEVEL: 'silent', DATABASE_DIR: 'memory://' };

function get(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS at process start', () => {
  let cert: TestCertificate;
  beforeAll(() => (cert = selfSignedCertificate()));
  afterAll(() => cert.remove());

  it('serves HTTPS with HTTP_TLS_CERT_FILE/KEY_FILE, to clients that trust the certificate only', async () => {
    const proc = await startProcess(spec, {
      ...base,
      HTTP_TLS_CERT_FILE: cert.certFile,
      HTTP_TLS_KEY_FILE: cert.keyFile,
      MQTT_TLS_CERT_FILE: cert.certFile,
      MQTT_TLS_KEY_FILE: cert.keyFile,
      MQTT_TLS_PORT: '0',
    });
    try {
      const url = proc.url!.replace('[::1]', '127.0.0.1');
      expect(url).toMatch(/^https:\/\//);
      expect(await get(`${url}/ping`, cert.cert)).toEqual({ status: 200, body: '{"pong":true}' });
      await expect(get(`${url}/ping`)).rejects.toThrow(/self[- ]signed/i);
      expect(proc.infra.broker!.tlsPort).toBeGreaterThan(0);
    } finally {
      await proc.close();
    }
  });

  it.each([
    [{ HTTP_TLS_CERT_FILE: '/nonexistent/cert.pem', HTTP_TLS_KEY_FILE: '/nonexistent/key.pem' }, 'HTTP_TLS_CERT_FILE'],
    [{ MQTT_TLS_CERT_FILE: '/nonexistent/cert.pem', MQTT_TLS_KEY_FILE: '/nonexistent/key.pem' }, 'MQTT_TLS_CERT_FILE'],
  ])('refuses to start when a TLS file cannot be read, naming the variable and path: %j', async (env, variable) => {
    await expect(startProcess(spec, { ...base, ...env })).rejects.toThrow(
      `cannot read ${variable} (/nonexistent/cert.pem): ENOENT`,
    );
  });
});
