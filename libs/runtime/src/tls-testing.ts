import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A self-signed certificate for tests: PEM files on disk and their contents. */
export interface TestCertificate {
  certFile: string;
  keyFile: string;
  /** The certificate, which is also the CA a client must trust. */
  cert: Buffer;
  key: Buffer;
  remove(): void;
}

/**
 * Generates a self-signed certificate for `localhost` and 127.0.0.1 (P-256 key, one day) with the
 * `openssl` binary, in a fresh temporary directory. Node has no certificate generator of its own.
 */
export function selfSignedCertificate(commonName = 'localhost'): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'continuum-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const result = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { encoding: 'utf8' },
  );
  if (result.error || result.status !== 0)
    throw new Error(`openssl could not make a test certificate: ${result.error?.message ?? result.stderr}`);
  return {
    certFile,
    keyFile,
    cert: readFileSync(certFile),
    key: readFileSync(keyFile),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
