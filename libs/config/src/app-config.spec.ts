import { ConfigError, loadConfig } from '@continuum/config';

describe('loadConfig', () => {
  it('defaults to embedded database and broker', () => {
    const config = loadConfig({});
    expect(config.http).toEqual({ port: 3000, host: '0.0.0.0' });
    expect(config.database).toMatchObject({ mode: 'embedded', dataDir: './data/db', migrationsRun: true });
    expect(config.database.readings).toEqual({ compressAfterDays: 7, retentionDays: 0 });
    expect(config.mqtt).toMatchObject({ mode: 'embedded', port: 1883 });
  });

  it('switches to external mode when the URLs are given', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/continuum',
      MQTT_URL: 'mqtt://broker:1883',
      DATABASE_MIGRATIONS_RUN: 'false',
      READINGS_RETENTION_DAYS: '90',
    });
    expect(config.database).toMatchObject({
      mode: 'external',
      url: 'postgres://u:p@db:5432/continuum',
      migrationsRun: false,
    });
    expect(config.database.readings.retentionDays).toBe(90);
    expect(config.mqtt).toMatchObject({ mode: 'external', url: 'mqtt://broker:1883' });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).database.mode).toBe('embedded');
  });

  it.each([
    [{ DATABASE_URL: 'nonsense' }, 'DATABASE_URL: expected a PostgreSQL URL'],
    [{ DATABASE_URL: 'mysql://h/db' }, 'DATABASE_URL: expected a PostgreSQL URL'],
    [{ PORT: '70000' }, 'PORT: expected a port between 0 and 65535'],
    [{ PORT: 'abc' }, 'PORT: expected a port number'],
    [{ MQTT_URL: 'http://x' }, 'MQTT_URL: expected an MQTT URL'],
    [{ DATABASE_MIGRATIONS_RUN: 'maybe' }, 'DATABASE_MIGRATIONS_RUN: expected true or false'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('refuses %j with a one-line reason', (env, reason) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (err) {
      expect((err as Error).message).toContain(reason);
      expect((err as Error).message).toMatch(/^Invalid environment variables: [^\n]+$/);
    }
  });

  it('reads TLS file paths and broker limits; TLS is off by default', () => {
    expect(loadConfig({}).tls).toEqual({ http: null, mqttBroker: null, mqttCaFile: null });
    expect(loadConfig({}).mqtt).toMatchObject({
      deviceLimits: { maxMsgsPerSecond: 50, burst: 200 },
      maxPacketBytes: 2_097_152,
    });
    const config = loadConfig({
      HTTP_TLS_CERT_FILE: '/c.pem',
      HTTP_TLS_KEY_FILE: '/k.pem',
      MQTT_TLS_CERT_FILE: '/mc.pem',
      MQTT_TLS_KEY_FILE: '/mk.pem',
      MQTT_TLS_CA_FILE: '/ca.pem',
      MQTT_DEVICE_MAX_MSGS_PER_S: '0',
    });
    expect(config.tls).toEqual({
      http: { certFile: '/c.pem', keyFile: '/k.pem' },
      mqttBroker: { certFile: '/mc.pem', keyFile: '/mk.pem', port: 8883 },
      mqttCaFile: '/ca.pem',
    });
    expect(config.mqtt).toMatchObject({ deviceLimits: { maxMsgsPerSecond: 0 } });
  });

  it.each([
    [{ HTTP_TLS_CERT_FILE: '/c.pem' }, 'HTTP_TLS_CERT_FILE and HTTP_TLS_KEY_FILE must be set together'],
    [{ MQTT_TLS_KEY_FILE: '/k.pem' }, 'MQTT_TLS_CERT_FILE and MQTT_TLS_KEY_FILE must be set together'],
    [
      { MQTT_TLS_CERT_FILE: '/c.pem', MQTT_TLS_KEY_FILE: '/k.pem', MQTT_URL: 'mqtts://b:8883' },
      'MQTT_TLS_CERT_FILE: configures the embedded broker, but MQTT_URL is set',
    ],
    [{ MQTT_MAX_PACKET_BYTES: '10' }, 'MQTT_MAX_PACKET_BYTES'],
  ])('refuses the TLS and limit variables %j with a one-line reason', (env, reason) => {
    expect(() => loadConfig(env)).toThrow(reason);
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: '-1', MQTT_PORT: 'x' })).toThrow(/PORT: .*; MQTT_PORT: /);
  });
});
