import {
  activationConflict,
  admitJob,
  DEFAULT_HYPERPARAMETERS,
  EXPLICIT_METHODS,
  IMPLICIT_METHODS,
  parseJobRequest,
  TrainingRequestError,
  type TrainingDataCatalog,
} from '@continuum/contracts';
import { isStiffMethod, STIFF_METHODS, TABLEAUX } from '@continuum/ode';
import fc from 'fast-check';

const NOW = new Date('2026-12-01T00:00:00Z');

function refusal(fn: () => unknown): { status: number; message: string; errors: string[] } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TrainingRequestError);
    const err = e as TrainingRequestError;
    return { status: err.status, message: err.message, errors: err.errors };
  }
  throw new Error('accepted');
}

describe('training job requests (@continuum/contracts training.schema)', () => {
  it("names exactly @continuum/ode's explicit tableaux and stiff methods", () => {
    expect([...EXPLICIT_METHODS].sort()).toEqual(Object.keys(TABLEAUX).sort());
    expect([...IMPLICIT_METHODS].sort()).toEqual([...STIFF_METHODS].sort());
    for (const m of EXPLICIT_METHODS) expect(isStiffMethod(m)).toBe(false);
  });

  it('fills defaults: the 7 days before now, ode-rnn, dopri5, adjoint, default hyperparameters', () => {
    const spec = parseJobRequest({ assetType: 'pump' }, NOW);
    expect(spec).toEqual({
      assetType: 'pump',
      machineIds: null,
      from: new Date(NOW.getTime() - 7 * 86_400_000),
      to: NOW,
      modelKind: 'ode-rnn',
      hyperparameters: { ...DEFAULT_HYPERPARAMETERS },
      solver: 'dopri5',
      gradient: 'adjoint',
    });
  });

  it('accepts ISO times, epoch ms, numeric strings (the CLI) and nulls, and de-duplicates machines', () => {
    const spec = parseJobRequest(
      {
        assetType: 'pump',
        machineIds: ['a', 'b', 'a'],
        from: '2026-11-01T00:00:00Z',
        to: Date.parse('2026-11-02T00:00:00Z'),
        modelKind: 'latent-ode',
        solver: 'tsit5',
        gradient: 'backprop',
        hyperparameters: { epochs: '3', lr: '0.001', odeHidden: [8, 8] },
      },
      NOW,
    );
    expect(spec).toMatchObject({
      machineIds: ['a', 'b'],
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-11-02T00:00:00Z'),
      modelKind: 'latent-ode',
      solver: 'tsit5',
      gradient: 'backprop',
      hyperparameters: { ...DEFAULT_HYPERPARAMETERS, epochs: 3, lr: 0.001, odeHidden: [8, 8] },
    });
    expect(parseJobRequest({ assetType: 'pump', modelKind: null, hyperparameters: null }, NOW).modelKind).toBe(
      'ode-rnn',
    );
  });

  it('refuses bad requests with 400 and one message per problem', () => {
    expect(refusal(() => parseJobRequest({}, NOW))).toMatchObject({ status: 400, message: /^assetType: required/ });
    expect(refusal(() => parseJobRequest('pump', NOW))).toMatchObject({ status: 400, message: /JSON object/ });
    const many = refusal(() =>
      parseJobRequest(
        {
          assetType: 'pump',
          from: 'yesterday',
          solver: 'heun',
          hyperparameters: { epochs: 0, lr: 'fast', window: 2.5, dropout: 0.1 },
          colour: 'red',
        },
        NOW,
      ),
    );
    expect(many.status).toBe(400);
    expect(many.errors).toEqual(
      expect.arrayContaining([
        'unknown field colour',
        'from: expected an ISO 8601 time or epoch milliseconds, got "yesterday"',
        expect.stringMatching(/^solver: expected one of dopri5, .*got "heun"$/),
        'hyperparameters.epochs: expected an integer between 1 and 10000, got 0',
        'hyperparameters.lr: expected a number between 1e-7 and 1, got "fast"',
        'hyperparameters.window: expected an integer between 2 and 10000, got 2.5',
        expect.stringMatching(/^hyperparameters: unknown hyperparameter dropout \(known: epochs, lr/),
      ]),
    );
    expect(many.message).toBe(many.errors.join('; '));
    expect(
      refusal(() => parseJobRequest({ assetType: 'pump', from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' })),
    ).toMatchObject({ status: 400, message: /^empty time range/ });
    expect(refusal(() => parseJobRequest({ assetType: 'pump', to: -8.64e15 }))).toMatchObject({
      status: 400,
      message: /^from: the default, 7 days before to/,
    });
    expect(refusal(() => parseJobRequest({ assetType: 'pump', machineIds: [] }))).toMatchObject({
      status: 400,
      message: 'machineIds: expected a non-empty list of machine ids',
    });
    expect(refusal(() => parseJobRequest({ assetType: 'pump', hyperparameters: { odeHidden: [0] } }))).toMatchObject({
      status: 400,
      message: /odeHidden/,
    });
  });

  it('answers any JSON body, or a near-miss of a valid one, with a spec, a 400 or a 422 — never another error', () => {
    const field = fc.constantFrom('assetType', 'machineIds', 'from', 'to', 'modelKind', 'solver', 'gradient');
    const nearMiss = fc
      .record({ key: field, value: fc.jsonValue() })
      .map(({ key, value }) => ({ assetType: 'pump', hyperparameters: { epochs: 2 }, [key]: value }));
    const hyperMiss = fc
      .record({ key: fc.constantFrom(...Object.keys(DEFAULT_HYPERPARAMETERS), 'x'), value: fc.jsonValue() })
      .map(({ key, value }) => ({ assetType: 'pump', hyperparameters: { [key]: value } }));
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), nearMiss, hyperMiss), (body) => {
        try {
          const spec = parseJobRequest(body, NOW);
          expect(spec.from.getTime()).toBeLessThan(spec.to.getTime());
          expect(EXPLICIT_METHODS).toContain(spec.solver);
        } catch (e) {
          expect(e).toBeInstanceOf(TrainingRequestError);
          expect([400, 422]).toContain((e as TrainingRequestError).status);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('takes implicit solvers with the adjoint gradient (the default) and refuses them with backprop (422)', () => {
    for (const solver of IMPLICIT_METHODS) {
      expect(parseJobRequest({ assetType: 'pump', solver }, NOW)).toMatchObject({ solver, gradient: 'adjoint' });
      expect(parseJobRequest({ assetType: 'pump', solver, gradient: 'adjoint' }, NOW).solver).toBe(solver);
      expect(refusal(() => parseJobRequest({ assetType: 'pump', solver, gradient: 'backprop' }, NOW))).toMatchObject({
        status: 422,
        message: new RegExp(`solver '${solver}' needs gradient 'adjoint'`),
      });
    }
  });

  it('admits a job only when the asset type, machines and readings are there', async () => {
    const spec = parseJobRequest({ assetType: 'pump', hyperparameters: { window: 8 } }, NOW);
    const catalog = (readings: number, machines = ['p1', 'p2']): TrainingDataCatalog & { cap: number[] } => {
      const cap: number[] = [];
      return {
        cap,
        assetTypeExists: async (t) => t === 'pump',
        machines: async (_t, ids) => machines.filter((m) => !ids || ids.includes(m)).map((id) => ({ id })),
        countReadings: async (_sel, c) => (cap.push(c), Math.min(readings, c)),
      };
    };
    const ok = catalog(1000);
    await expect(admitJob(spec, ok)).resolves.toBeUndefined();
    expect(ok.cap).toEqual([16]); // two windows of 8
    await expect(admitJob(spec, catalog(15))).rejects.toMatchObject({ status: 422, message: /^no data: 15 readings/ });
    await expect(admitJob({ ...spec, assetType: 'fan' }, catalog(1000))).rejects.toMatchObject({ status: 404 });
    await expect(admitJob({ ...spec, machineIds: ['p1', 'x9'] }, catalog(1000))).rejects.toMatchObject({
      status: 404,
      message: 'machines not found for asset type pump: x9',
    });
  });

  it('refuses to activate a version with a worse or unknown validation metric unless forced', () => {
    const v = (version: number, valLoss?: number) => ({
      id: `m${version}`,
      assetType: 'pump',
      version,
      metrics: valLoss === undefined ? {} : { valLoss },
    });
    expect(activationConflict(v(2, 1.0), null)).toBeNull();
    expect(activationConflict(v(2, 1.0), v(1, 1.5))).toBeNull();
    expect(activationConflict(v(2, 1.0), v(1, 1.0))).toBeNull();
    expect(activationConflict(v(2, 2.0), v(1, 1.5))).toMatch(/v2 has valLoss 2, worse than the active v1 \(1.5\)/);
    expect(activationConflict(v(2), v(1, 1.5))).toMatch(/unknown/);
    expect(activationConflict(v(2, 2.0), v(1, 1.5), true)).toBeNull();
    expect(activationConflict(v(2, 2.0), v(2, 2.0))).toBeNull();
    expect(activationConflict(v(2, 2.0), v(1))).toBeNull();
  });
});
