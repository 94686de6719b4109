import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { testDatabaseModes } from '@continuum/persistence';
import { uniqueId, waitFor } from '@continuum/runtime';
import { startPlatform, type PlatformUnderTest } from './platform-under-test';

/**
 * The security suite (issue 13): the whole platform in its own process (HTTPS, MQTT over TLS,
 * device authentication; embedded broker, and the database of each mode), attacked from outside.
 * Every attempt must be refused, every refusal logged, and no secret may appear in the log.
 */

/** Strings that break out of a quoted or numeric SQL literal if one were ever concatenated. */
const INJECTIONS = [
  "' OR '1'='1",
  "' OR 1=1 --",
  '1 OR 1=1',
  '1; DROP TABLE machines; --',
  "'); DELETE FROM machines; --",
  '" OR ""="',
  "x' UNION SELECT token_hash FROM api_keys --",
  "%' OR '%'='",
  "'; SELECT pg_sleep(3); --",
  "\\'; DROP TABLE readings; --",
  "x'::text || (SELECT current_user) --",
  '$1',
];

/** Requests for files outside the dashboard directory (the repository root is three levels up). */
const TRAVERSALS = [
  '/../../../package.json',
  '/%2e%2e/%2e%2e/%2e%2e/package.json',
  '/..%2f..%2f..%2fpackage.json',
  '/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json',
  '/%252e%252e/%252e%252e/%252e%252e/package.json',
  '/....//....//....//package.json',
  '/..\\..\\..\\package.json',
  '/%5c..%5c..%5c..%5cpackage.json',
  '/vendor/uplot/../../../../package.json',
  '/vendor/uplot/%2e%2e/%2e%2e/%2e%2e/%2e%2e/package.json',
  '/index.html/../../src/main.ts',
  '/%2e%2e/src/main.ts',
  '/../../../../../../../../etc/passwd',
  '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  '/%00/../../../package.json',
];

/** Bits of the files the traversals aim at. */
const FORBIDDEN_CONTENT = ['"name": "continuum"', 'root:x:0:0', 'startProcess', "from '@continuum/runtime'"];

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

describe.each(testDatabaseModes())('security suite (%s database)', (mode) => {
  const ADMIN = `ck_sec_admin_${randomBytes(16).toString('hex')}`;
  const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
  const WRONG_PASSWORD = `wrong_${randomBytes(12).toString('hex')}`;
  const plantA = `sec-a-${uniqueId()}`;
  const plantB = `sec-b-${uniqueId()}`;
  const machineA = `sec-ma-${uniqueId()}`;
  const machineB = `sec-mb-${uniqueId()}`;
  const secrets: string[] = [ADMIN, WEBHOOK_SECRET, WRONG_PASSWORD];
  const clients: MqttClient[] = [];
  let p: PlatformUnderTest;
  let viewerA: string;
  let operator: string;
  let devicePassword: string;
  let openapi: OpenApiDocument;

  const logged = (what: string, predicate: (line: Record<string, any>) => boolean) =>
    waitFor(() => (p.logLines().some(predicate) ? true : undefined), 5000, `a log line: ${what}`);
  /** pino-http's request line, or the runtime's line for refusals no route saw (413 from the body parser, 404s). */
  const requestLogged = (method: string, url: string, status: number) =>
    logged(
      `${method} ${url} -> ${status}`,
      (l) =>
        (l.req?.method === method && l.req?.url === url && l.res?.statusCode === status) ||
        (l.context === 'Http' && l.msg === `refused: ${status} ${method} ${url}`),
    );
  // The API serves at most 366 days at once.
  const range = `from=${new Date(Date.now() - 300 * 86_400_000).toISOString()}&to=${new Date(Date.now() + 86_400_000).toISOString()}`;
  const readingsOf = async (machine: string) => {
    const r = await p.call('GET', `/api/v1/machines/${machine}/telemetry?${range}`, ADMIN);
    expect(r.status).toBe(200);
    return (r.body.series as { t: number[] }[]).reduce((n, s) => n + s.t.length, 0);
  };
  const device = async (password: string | undefined, options: mqtt.IClientOptions = {}) => {
    const client = await mqtt.connectAsync(`mqtts://localhost:${p.mqttTlsPort}`, {
      clientId: `sec-dev-${uniqueId()}`,
      username: machineA,
      password,
      ca: p.cert.cert,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...options,
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    p = await startPlatform(mode, {
      CONTINUUM_ADMIN_TOKEN: ADMIN,
      ALERTING_WEBHOOK_URLS: 'http://127.0.0.1:9/continuum-webhook',
      ALERTING_WEBHOOK_SECRET: WEBHOOK_SECRET,
      API_RATE_LIMIT_PER_MINUTE: '100000',
      MQTT_DEVICE_MAX_MSGS_PER_S: '5',
      MQTT_DEVICE_BURST: '5',
      TRAINING_WORKER: 'false', // random bodies must not start training runs
    });
    for (const [id, plantId] of [
      [machineA, plantA],
      [machineB, plantB],
    ]) {
      const r = await p.call('POST', '/api/v1/machines', ADMIN, {
        id,
        plantId,
        assetType: 'centrifugal-pump',
        sensors: [{ name: 'temp', unit: 'degC' }],
      });
      expect(r.status).toBe(201);
    }
    const key = async (role: string, plantIds?: string[]) => {
      const r = await p.call('POST', '/api/v1/api-keys', ADMIN, { name: `sec ${role}`, role, plantIds });
      expect(r.status).toBe(201);
      secrets.push(r.body.token);
      return r.body.token as string;
    };
    viewerA = await key('viewer', [plantA]);
    operator = await key('operator');
    const issued = await p.call('POST', `/api/v1/machines/${machineA}/credentials`, ADMIN);
    expect(issued.status).toBe(201);
    devicePassword = issued.body.password;
    secrets.push(devicePassword);
    const doc = await p.call('GET', '/api/docs/openapi.json', null);
    expect(doc.status).toBe(200);
    openapi = doc.body;
  }, 240_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await p?.close();
  }, 60_000);

  /** Every operation of the OpenAPI document under /api/v1, path parameters filled in. */
  function operations(): {
    method: string;
    path: string;
    template: string;
    parameters: OpenApiParameter[];
    body?: OpenApiSchema;
  }[] {
    return Object.entries(openapi.paths).flatMap(([template, ops]) =>
      Object.entries(ops)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .filter(() => template.startsWith('/api/v1/'))
        .map(([method, op]) => ({
          method: method.toUpperCase(),
          template,
          path: template.replace(/\{[^}]+\}/g, machineA),
          parameters: op.parameters ?? [],
          body: op.requestBody?.content?.['application/json']?.schema,
        })),
    );
  }

  it('answers 401 without a token on every API route, and logs each refusal', async () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(20);
    await inBatches(ops, 8, async ({ method, path }) => {
      const r = await p.call(method, path, null, method === 'GET' || method === 'DELETE' ? undefined : {});
      expect({ route: `${method} ${path}`, status: r.status }).toEqual({ route: `${method} ${path}`, status: 401 });
      expect(r.type).toContain('application/problem+json');
    });
    for (const { method, path } of ops)
      await logged(
        `401 ${method} ${path}`,
        (l) => l.context === 'Auth' && l.msg === `401 ${method} ${path}: no bearer token`,
      );
    const bad = await p.call('GET', '/api/v1/machines', 'ck_not_a_key_at_all');
    expect(bad.status).toBe(401);
    await logged('401 unknown key', (l) => l.context === 'Auth' && /^401 GET \/api\/v1\/machines: unknown/.test(l.msg));
  });

  it('answers 403 to a role too small for the route, and logs it', async () => {
    const attempts: [string, string, string, unknown][] = [
      [viewerA, 'POST', '/api/v1/machines', { id: `x-${uniqueId()}`, plantId: plantA, assetType: 'pump' }],
      [viewerA, 'POST', `/api/v1/work-orders`, { machineId: machineA, title: 'nope', priority: 'low' }],
      [operator, 'DELETE', `/api/v1/machines/${machineA}`, undefined],
      [operator, 'POST', '/api/v1/api-keys', { name: 'escalate', role: 'admin' }],
      [operator, 'POST', `/api/v1/machines/${machineA}/credentials`, undefined],
      [operator, 'POST', '/api/v1/alert-rules', {}],
    ];
    for (const [token, method, path, body] of attempts) {
      const r = await p.call(method, path, token, body);
      expect({ route: `${method} ${path}`, status: r.status }).toEqual({ route: `${method} ${path}`, status: 403 });
      await logged(
        `403 ${method} ${path}`,
        (l) => l.context === 'Auth' && l.msg.startsWith(`403 ${method} ${path}: key`),
      );
    }
    // The machine is still there.
    expect((await p.call('GET', `/api/v1/machines/${machineA}`, ADMIN)).status).toBe(200);
  });

  it("does not show another plant's machine, nor whether it exists, to a plant-scoped key", async () => {
    const missing = `sec-missing-${uniqueId()}`;
    for (const suffix of ['', '/telemetry?' + range, '/twin']) {
      const other = await p.call('GET', `/api/v1/machines/${machineB}${suffix}`, viewerA);
      const none = await p.call('GET', `/api/v1/machines/${missing}${suffix}`, viewerA);
      expect({ suffix, status: other.status }).toEqual({ suffix, status: none.status });
      expect([403, 404]).toContain(other.status);
      expect(other.text.replaceAll(machineB, 'ID')).toBe(none.text.replaceAll(missing, 'ID'));
      expect(other.text).not.toContain(plantB);
      await requestLogged('GET', `/api/v1/machines/${machineB}${suffix}`, other.status);
    }
    const list = await p.call('GET', '/api/v1/machines', viewerA);
    expect(list.status).toBe(200);
    expect(list.body.items.map((m: { id: string }) => m.id)).toEqual([machineA]);
    for (const path of [`/api/v1/machines?plantId=${plantB}`, `/api/v1/alerts?plantId=${plantB}`]) {
      const r = await p.call('GET', path, viewerA);
      expect(r.status).toBe(403);
      await requestLogged('GET', path, 403);
    }
    const orders = await p.call('GET', `/api/v1/work-orders?machineId=${machineB}`, viewerA);
    expect([403, 404]).toContain(orders.status);
    expect(orders.text).not.toContain(plantB);
  });

  it('gives 400 or an empty result, never 500, to SQL injection in every parameter of every GET route; the database is intact', async () => {
    const before = await p.call('GET', '/api/v1/machines', ADMIN);
    const keysBefore = await p.call('GET', '/api/v1/api-keys', ADMIN);
    expect(before.status).toBe(200);
    const cases: { path: string; param: string }[] = [];
    for (const op of operations().filter((o) => o.method === 'GET')) {
      const query = op.parameters.filter((q) => q.in === 'query');
      const base = new URLSearchParams();
      for (const q of query.filter((q) => q.required)) base.set(q.name, validValue(q));
      for (const injection of INJECTIONS) {
        for (const q of query) {
          const params = new URLSearchParams(base);
          params.set(q.name, injection);
          cases.push({ path: `${op.path}?${params}`, param: `${op.template} ?${q.name}` });
        }
        for (const q of op.parameters.filter((q) => q.in === 'path')) {
          const path = op.template
            .replace(`{${q.name}}`, encodeURIComponent(injection))
            .replace(/\{[^}]+\}/g, machineA);
          cases.push({ path: base.size ? `${path}?${base}` : path, param: `${op.template} {${q.name}}` });
        }
      }
    }
    expect(new Set(cases.map((c) => c.param.split(' ')[0])).size).toBeGreaterThan(10);
    const failures: string[] = [];
    const refused: { path: string; status: number }[] = [];
    await inBatches(cases, 8, async ({ path, param }) => {
      const r = await p.call('GET', path, ADMIN);
      if (r.status !== 200) refused.push({ path, status: r.status });
      if (![200, 400, 404].includes(r.status)) failures.push(`${param}: ${r.status} for ${path}`);
      else if (r.status === 200) {
        const rows = r.body?.items ?? r.body?.series ?? r.body?.buckets;
        if (Array.isArray(rows) && rows.length > 0) failures.push(`${param}: ${rows.length} rows for ${path}`);
      }
    });
    expect(failures).toEqual([]);
    // Refusals are logged (a sample: the log of ~700 requests is checked line by line).
    expect(refused.length).toBeGreaterThan(100);
    for (const { path, status } of refused.filter((_, i) => i % 50 === 0)) await requestLogged('GET', path, status);
    const after = await p.call('GET', '/api/v1/machines', ADMIN);
    expect(after.body.total).toBe(before.body.total);
    expect((await p.call('GET', '/api/v1/api-keys', ADMIN)).body).toEqual(keysBefore.body);
    expect((await p.call('GET', `/api/v1/machines/${machineA}/telemetry?${range}`, ADMIN)).status).toBe(200);
    expect(p.logLines().filter((l) => l.res?.statusCode >= 500)).toEqual([]);
  }, 240_000);

  it('answers 413 to an oversized JSON body, and logs it', async () => {
    const big = { id: `big-${uniqueId()}`, plantId: plantA, assetType: 'pump', name: 'x'.repeat(2_000_000) };
    const r = await p.call('POST', '/api/v1/machines', ADMIN, big);
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ status: 413 });
    await requestLogged('POST', '/api/v1/machines', 413);
    expect((await p.call('GET', `/api/v1/machines/${big.id}`, ADMIN)).status).toBe(404);
  });

  it('serves no file outside the dashboard directory, whatever the path', async () => {
    const home = await p.call('GET', '/', null);
    expect(home.status).toBe(200);
    expect(home.text).toContain('<html');
    expect((await p.call('GET', '/vendor/uplot/uPlot.esm.js', null)).status).toBe(200);
    for (const path of TRAVERSALS) {
      const r = await p.call('GET', path, null);
      for (const content of FORBIDDEN_CONTENT)
        expect({ path, leaked: r.text.includes(content) }).toEqual({ path, leaked: false });
      expect({ path, status: r.status }).not.toEqual({ path, status: 500 });
      if (r.status !== 200) await requestLogged('GET', path, r.status);
    }
  });

  it("refuses over MQTT: a device on another machine's topic, a subscription to #, bad passwords, no CA; logs each", async () => {
    await expect(
      mqtt.connectAsync(`mqtts://localhost:${p.mqttTlsPort}`, { reconnectPeriod: 0, connectTimeout: 5000 }),
    ).rejects.toThrow(/self[- ]signed/i);
    await expect(device(WRONG_PASSWORD)).rejects.toThrow(/Bad username or password|Not authorized/i);
    await logged('bad credentials', (l) => /refused \(bad-credentials\): client .* \(user sec-ma-/.test(l.msg ?? ''));

    const own = await device(devicePassword);
    await expect(own.subscribeAsync('#')).rejects.toThrow(/Subscribe error/);
    await logged('subscribe #', (l) =>
      /refused \(subscribe-not-allowed\): .* may not subscribe to #$/.test(l.msg ?? ''),
    );
    await expect(own.subscribeAsync(`plants/${plantB}/machines/${machineB}/#`)).rejects.toThrow(/Subscribe error/);

    const intruder = await device(devicePassword);
    const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    intruder.publish(
      `plants/${plantB}/machines/${machineB}/telemetry`,
      JSON.stringify({ ts: Date.now(), values: { temp: 999 } }),
      { qos: 1 },
    );
    await closed;
    await logged('publish elsewhere', (l) =>
      new RegExp(
        `refused \\(publish-not-allowed\\): .* may not publish on plants/${plantB}/machines/${machineB}/telemetry`,
      ).test(l.msg ?? ''),
    );
    // The device's own topic works (and is stored); the other machine got nothing.
    await own.publishAsync(
      `plants/${plantA}/machines/${machineA}/telemetry`,
      JSON.stringify({ ts: Date.now(), values: { temp: 20 } }),
      { qos: 1 },
    );
    await waitFor(async () => ((await readingsOf(machineA)) >= 1 ? true : undefined), 30_000, 'the own reading stored');
    expect(await readingsOf(machineB)).toBe(0);
  }, 90_000);

  it('paces a device over its message rate: refused before PUBACK, counted, and every reading stored once', async () => {
    const flooding = await device(devicePassword, { reconnectPeriod: 200, clean: true });
    const t0 = Date.now() - 3_600_000;
    const n = 20;
    const before = await readingsOf(machineA);
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        flooding.publishAsync(
          `plants/${plantA}/machines/${machineA}/telemetry`,
          JSON.stringify({ ts: t0 + i * 1000, values: { temp: i } }),
          { qos: 1 },
        ),
      ),
    );
    await waitFor(
      async () => ((await readingsOf(machineA)) >= before + n ? true : undefined),
      30_000,
      'every reading stored',
    );
    expect(await readingsOf(machineA)).toBe(before + n);
    const metrics = await p.call('GET', '/metrics', null);
    const refused = /mqtt_broker_refusals_total\{reason="rate-limited"\} (\d+)/.exec(metrics.text);
    expect(Number(refused?.[1] ?? 0)).toBeGreaterThan(0);
    await logged('rate limited', (l) =>
      /refused \(rate-limited\): client .* \(user sec-ma-.*\) publishes faster than 5\/s/.test(l.msg ?? ''),
    );
  }, 60_000);

  it('disconnects a device that sends an MQTT packet over MQTT_MAX_PACKET_BYTES (over TLS), unacknowledged', async () => {
    const big = await device(devicePassword);
    const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
    let acked = false;
    big.publish(
      `plants/${plantA}/machines/${machineA}/telemetry`,
      Buffer.alloc(3_000_000, 0x20),
      { qos: 1 },
      (err) => (acked = !err),
    );
    await closed;
    expect(acked).toBe(false);
    await logged('packet too large', (l) =>
      /refused \(packet-too-large\): client .* sent a packet of 300\d{4} bytes \(limit 2097152\)/.test(l.msg ?? ''),
    );
  });

  it('speaks only TLS on its HTTPS port', async () => {
    const plain = await new Promise<number | string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: p.httpsPort, path: '/health' }, (res) =>
        resolve(res.statusCode!),
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end();
    });
    expect(plain).not.toBe(200);
  });

  it('answers random bodies on every POST and PATCH route with 2xx or a refusal (400, 404, 409, 422), never 500', async () => {
    const fuzzMachine = `sec-fuzz-${uniqueId()}`;
    const made = await p.call('POST', '/api/v1/machines', ADMIN, {
      id: fuzzMachine,
      plantId: plantA,
      assetType: 'pump',
    });
    expect(made.status).toBe(201);
    const ops = operations().filter((o) => o.method === 'POST' || o.method === 'PATCH');
    expect(ops.length).toBeGreaterThan(10);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (const op of ops) {
      const path = op.template.replace(/\{[^}]+\}/g, fuzzMachine);
      await fc.assert(
        fc.asyncProperty(op.body ? bodyFor(op.body, openapi, 0) : anyJson, async (body) => {
          const r = await p.call(op.method, path, ADMIN, body === undefined ? {} : body);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (![200, 201, 202, 204, 400, 404, 409, 413, 422].includes(r.status))
            failures.push(
              `${op.method} ${op.template}: ${r.status} ${r.text.slice(0, 200)} for ${JSON.stringify(body).slice(0, 300)}`,
            );
        }),
        { numRuns: 25 },
      );
    }
    expect(failures).toEqual([]);
    expect(p.logLines().filter((l) => l.res?.statusCode >= 500)).toEqual([]);
    // Both sides were reached: some random bodies passed validation, others were refused.
    expect([...statuses].filter(([s]) => s < 300).length).toBeGreaterThan(0);
    expect(statuses.get(400)).toBeGreaterThan(0);
  }, 240_000);

  it('never logs a secret: admin token, API keys, device password, webhook secret, refused passwords, TLS key', () => {
    const output = p.output();
    expect(output.length).toBeGreaterThan(10_000);
    const keyBody = p.cert.key.toString().split('\n')[1];
    for (const secret of [...secrets, keyBody])
      expect({ secret: secret.slice(0, 8), logged: output.includes(secret) }).toEqual({
        secret: secret.slice(0, 8),
        logged: false,
      });
    // The bearer header is redacted in request logs.
    expect(p.logLines().some((l) => l.req?.headers?.authorization === '[Redacted]')).toBe(true);
  });
});

interface OpenApiSchema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  allOf?: OpenApiSchema[];
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      { parameters?: OpenApiParameter[]; requestBody?: { content?: Record<string, { schema?: OpenApiSchema }> } }
    >
  >;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

/** Any JSON, with prototype keys and extremes among it. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(JSON.parse('{"__proto__": {"admin": true}}'), 1e308, -1, '', 'x'.repeat(5000), [[[[[]]]]]),
);

/**
 * Random values shaped by a request body's schema: mostly of the declared types (so that they get
 * past the first checks and reach deeper validation and the services), now and then anything.
 */
function bodyFor(schema: OpenApiSchema, doc: OpenApiDocument, depth: number): fc.Arbitrary<unknown> {
  if (schema.$ref) return bodyFor(doc.components!.schemas![schema.$ref.split('/').pop()!], doc, depth);
  if (schema.allOf?.length) return bodyFor(schema.allOf[0], doc, depth);
  const typed = ((): fc.Arbitrary<unknown> => {
    if (schema.enum?.length) return fc.constantFrom(...schema.enum);
    if (schema.format === 'date-time')
      return fc
        .date({ min: new Date('1900-01-01'), max: new Date('2300-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString());
    if (schema.format === 'uuid') return fc.uuid();
    switch (schema.type) {
      case 'string':
        return fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,12}$/), fc.string({ maxLength: 30 }));
      case 'number':
        return fc.oneof(fc.integer({ min: -10, max: 100 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
      case 'integer':
        return fc.oneof(fc.integer({ min: -10, max: 100 }), fc.integer());
      case 'boolean':
        return fc.boolean();
      case 'array':
        return depth > 3 ? fc.constant([]) : fc.array(bodyFor(schema.items ?? {}, doc, depth + 1), { maxLength: 3 });
      default:
        if (!schema.properties || depth > 3) return anyJson;
        return fc.record(
          Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, bodyFor(v, doc, depth + 1)])),
          { requiredKeys: [] },
        );
    }
  })();
  return fc.oneof({ weight: 6, arbitrary: typed }, { weight: 1, arbitrary: anyJson });
}

interface OpenApiParameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  schema?: { enum?: string[]; type?: string; format?: string; minimum?: number; default?: unknown };
}

/** A value a required query parameter accepts, so that only the injected one is wrong. */
function validValue(q: OpenApiParameter): string {
  if (q.name === 'from') return new Date(Date.now() - 86_400_000).toISOString();
  if (q.name === 'to') return new Date().toISOString();
  if (q.schema?.enum?.length) return q.schema.enum[0];
  if (q.schema?.default !== undefined) return String(q.schema.default);
  if (q.schema?.format === 'date-time') return new Date().toISOString();
  if (q.schema?.type === 'integer' || q.schema?.type === 'number') return String(q.schema.minimum ?? 1);
  return 'x';
}
