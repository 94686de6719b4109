import { createTestDatabase, type TestDatabase } from '@continuum/persistence';
import { startProcess, type RunningProcess } from '@continuum/runtime';
import { ApiModule } from '../api.module';

export const TEST_ADMIN_TOKEN = 'ck_test_admin_token_0123456789';

/** The api app on a fresh test database, and a typed `call` helper for its HTTP routes. */
export interface ApiHarness {
  proc: RunningProcess;
  testDb: TestDatabase;
  base: string;
  call(
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
  ): Promise<{ status: number; type: string; body: any }>;
  keyFor(role: 'viewer' | 'operator' | 'admin', plantIds?: string[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the api on a fresh database of the mode. `events: true` also connects the internal event
 * transport, so that events emitted on the bus (`proc.app.get(EventBus)`) reach the api's handlers.
 */
export async function startApiHarness(
  mode: 'embedded' | 'external',
  extraEnv: Record<string, string> = {},
  options: { events?: boolean } = {},
): Promise<ApiHarness> {
  const testDb = await createTestDatabase(mode);
  const dbEnv =
    testDb.config.mode === 'external' ? { DATABASE_URL: testDb.config.url } : { DATABASE_DIR: testDb.config.dataDir };
  const proc = await startProcess(
    {
      role: 'api-test',
      rootModule: ApiModule.register,
      configure: ApiModule.configure,
      http: true,
      events: options.events ?? false,
      embedded: true,
    },
    {
      ...dbEnv,
      PORT: '0',
      HOST: '127.0.0.1',
      MQTT_PORT: '0',
      LOG_LEVEL: 'silent',
      CONTINUUM_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      ...extraEnv,
    },
  );
  const base = proc.url!.replace('[::1]', '127.0.0.1');
  const call: ApiHarness['call'] = async (method, path, token, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      body: text ? JSON.parse(text) : undefined,
    };
  };
  return {
    proc,
    testDb,
    base,
    call,
    keyFor: async (role, plantIds) =>
      (await call('POST', '/api/v1/api-keys', TEST_ADMIN_TOKEN, { name: `${role} key`, role, plantIds })).body.token,
    close: async () => {
      await proc.close();
      await testDb.drop();
    },
  };
}
