import { BadRequestException, type ArgumentMetadata, type Type } from '@nestjs/common';
import fc from 'fast-check';
import { CreateAlertRuleDto, UpdateAlertRuleDto } from '../alert-rules/dto/alert-rule.dto';
import { AlertActionDto, AlertCommentDto, ListAlertsQuery } from '../alerts/dto/alert.dto';
import { CreateApiKeyDto } from '../api-keys/api-keys.controller';
import { ListMachinesQuery, RegisterMachineDto, UpdateMachineDto } from '../machines/dto/machine.dto';
import { AcceptScheduleDto, ScheduleRequestDto } from '../maintenance/dto/schedule.dto';
import { ActivateModelDto, ListModelsQuery } from '../models/dto/model.dto';
import { AggregateTelemetryQuery, RawTelemetryQuery } from '../telemetry/dto/telemetry.dto';
import { ListTrainingJobsQuery } from '../training-jobs/dto/training-job.dto';
import { ForecastQuery } from '../twin/dto/twin.dto';
import { RequestValidationPipe } from './request-validation.pipe';
import { CreateWorkOrderDto, ListWorkOrdersQuery, UpdateWorkOrderDto } from '../work-orders/dto/work-order.dto';

/**
 * Property test of request validation: the api's pipe (ApiModule's APP_PIPE) on random bodies and
 * query strings for every DTO either passes or throws BadRequestException (400) — never anything
 * else, which the problem filter would answer 500.
 */
const pipe = new RequestValidationPipe();

const now = new Date('2026-06-01T12:00:00Z');
const iso = (hours: number) => new Date(now.getTime() + hours * 3_600_000).toISOString();

/** Each DTO with a value it accepts (checked below), the seed of near misses. */
const BODIES: [Type, Record<string, unknown>][] = [
  [
    RegisterMachineDto,
    {
      id: 'pump-1',
      plantId: 'plant-a',
      assetType: 'pump',
      name: 'Pump',
      sensors: [{ name: 'temp', unit: 'degC', failureThreshold: { above: 90 } }],
      metadata: { line: 2 },
    },
  ],
  [UpdateMachineDto, { name: 'Pump 1' }],
  [
    CreateAlertRuleDto,
    { name: 'r', detector: 'residual-cusum', raiseAt: 5, clearAt: 1, severity: 'major', sensors: ['temp'] },
  ],
  [UpdateAlertRuleDto, { raiseAt: 6 }],
  [AlertActionDto, { comment: 'seen' }],
  [AlertCommentDto, { comment: 'note' }],
  [CreateApiKeyDto, { name: 'ci', role: 'viewer', plantIds: ['plant-a'] }],
  [CreateWorkOrderDto, { machineId: 'pump-1', title: 'Replace bearing', priority: 'high', dueBy: iso(48) }],
  [UpdateWorkOrderDto, { status: 'scheduled', windowStart: iso(1), windowEnd: iso(3) }],
  [
    ScheduleRequestDto,
    {
      horizon: { start: iso(0), end: iso(48) },
      crews: [{ id: 'c1', shifts: [{ start: iso(0), end: iso(8) }] }],
      windows: [{ plantId: 'plant-a', start: iso(0), end: iso(24) }],
    },
  ],
  [
    AcceptScheduleDto,
    { assignments: [{ workOrderId: null, machineId: 'pump-1', crewId: 'c1', start: iso(1), end: iso(2) }] },
  ],
  [ActivateModelDto, {}],
];

const QUERIES: [Type, Record<string, string>][] = [
  [ListMachinesQuery, { plantId: 'plant-a', limit: '10', offset: '0' }],
  [ListAlertsQuery, { status: 'open,acknowledged', machineId: 'pump-1' }],
  [ListWorkOrdersQuery, { machineId: 'pump-1' }],
  [RawTelemetryQuery, { from: iso(-24), to: iso(0), sensor: 'temp', points: '100' }],
  [AggregateTelemetryQuery, { from: iso(-24), to: iso(0), bucket: '1h' }],
  [ForecastQuery, {}],
  [ListModelsQuery, {}],
  [ListTrainingJobsQuery, {}],
];

/** Runs the pipe; resolves to 'ok' or 400, and fails the property on any other outcome. */
async function validate(metatype: Type, type: ArgumentMetadata['type'], value: unknown): Promise<'ok' | 400> {
  try {
    await pipe.transform(value, { type, metatype, data: '' });
    return 'ok';
  } catch (err) {
    if (err instanceof BadRequestException) return 400;
    throw new Error(`${metatype.name}: ${String((err as Error)?.stack ?? err)} for ${JSON.stringify(value)}`, {
      cause: err,
    });
  }
}

/** JSON values with the awkward cases: prototype keys, huge and odd numbers, deep nesting. */
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(
    { __proto__: { admin: true } },
    JSON.parse('{"__proto__": {"polluted": 1}}'),
    { constructor: { prototype: { x: 1 } } },
    // Objects `new Date()` cannot convert (class-transformer threw a TypeError: a 500 before).
    { toString: [] },
    { valueOf: {}, toString: {} },
    1e308,
    -0,
    Number.MAX_SAFE_INTEGER + 2,
    '',
    '\u0000',
    'x'.repeat(10_000),
    [[[[[[[[[[]]]]]]]]]],
  ),
);

/** A valid example with some keys replaced by anything, some removed, some added. */
function nearMiss(example: Record<string, unknown>) {
  const keys = Object.keys(example);
  return fc
    .tuple(
      fc.dictionary(keys.length ? fc.constantFrom(...keys) : fc.string(), anyJson, { maxKeys: 3 }),
      fc.subarray(keys),
      fc.dictionary(fc.string({ maxLength: 12 }), anyJson, { maxKeys: 2 }),
    )
    .map(([replaced, removed, added]) => {
      const value: Record<string, unknown> = { ...example, ...replaced, ...added };
      for (const k of removed) delete value[k];
      return value;
    });
}

describe('request validation (properties)', () => {
  it('accepts the seed examples (so that near misses start from valid values)', async () => {
    for (const [dto, example] of BODIES)
      expect([dto.name, await validate(dto, 'body', example)]).toEqual([dto.name, 'ok']);
    for (const [dto, example] of QUERIES)
      expect([dto.name, await validate(dto, 'query', example)]).toEqual([dto.name, 'ok']);
  });

  it('refuses with 400 the two bodies the security suite found answering 500', async () => {
    // new Date({ toString: [] }) throws inside class-transformer.
    expect(await validate(UpdateWorkOrderDto, 'body', { dueBy: { toString: [] } })).toBe(400);
    // Arrays where nested objects belong passed @ValidateNested and crashed the service.
    expect(await validate(AcceptScheduleDto, 'body', { assignments: [[[[[]]]]] })).toBe(400);
    expect(await validate(RegisterMachineDto, 'body', { ...BODIES[0][1], sensors: [[{ name: 't' }]] })).toBe(400);
  });

  it.each(BODIES.map(([dto, example]) => [dto.name, dto, example] as const))(
    'a %s body is accepted or refused with 400, never an error',
    async (_name, dto, example) => {
      const seen = { ok: 0, 400: 0 };
      await fc.assert(
        fc.asyncProperty(fc.oneof(anyJson, nearMiss(example)), async (body) => {
          seen[await validate(dto, 'body', body)]++;
        }),
        { numRuns: 300 },
      );
      expect(seen[400]).toBeGreaterThan(0);
    },
  );

  it.each(QUERIES.map(([dto, example]) => [dto.name, dto, example] as const))(
    'a %s query string is accepted or refused with 400, never an error',
    async (_name, dto, example) => {
      const param = fc.oneof(fc.string({ maxLength: 40 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }));
      const names = [...Object.keys(example), 'limit', 'offset', 'status', 'from', 'to'];
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.string()), param), async (overrides) => {
          await validate(dto, 'query', { ...example, ...overrides });
        }),
        { numRuns: 300 },
      );
    },
  );
});
