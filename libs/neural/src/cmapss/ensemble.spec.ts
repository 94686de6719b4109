import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initTensorBackend } from '@continuum/ode';
import { fitNormalisation } from './data';
import {
  disposeRulEnsemble,
  loadRulEnsemble,
  predictRulEnsemble,
  saveRulEnsemble,
  writeRulEnsembleManifest,
} from './ensemble';
import { predictRul, type RulPredictor, saveRul } from './pipeline';
import { smallRulModel, syntheticEngines } from './synthetic-engines';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

describe('RUL ensembles', () => {
  const cap = 125;
  const data = syntheticEngines(4, 60, 11, 0.05);
  const norm = fitNormalisation(data, cap);
  const F = norm.features.length + 1;
  let dir: string;

  function member(seed: number): RulPredictor {
    const model = smallRulModel(F, cap, seed);
    // Random heads give outputs near 0 (clipped); shift the last bias so predictions are mid-range.
    const last = model.head.layers[model.head.layers.length - 1];
    last.b.assign(last.b.add(0.4));
    return { model, norm, window: 20 };
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rul-ensemble-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('predicts the mean of its members, the same after a save and load', () => {
    const members = [member(1), member(2), member(3)];
    const each = members.map((m) => predictRul(m, data, 0.5, 7));
    // Different seeds, different predictions (otherwise the mean below proves nothing).
    expect(Math.abs(each[0][0] - each[1][0])).toBeGreaterThan(1e-3);
    const mean = data.map((_, i) => (each[0][i] + each[1][i] + each[2][i]) / 3);
    const ensemble = { members };
    expect(predictRulEnsemble(ensemble, data, 0.5, 7)).toEqual(mean);

    saveRulEnsemble(ensemble, dir, { note: 'test' }, 'synthetic');
    expect(fs.readdirSync(dir).sort()).toEqual(['ensemble.json', 'member-1', 'member-2', 'member-3']);
    const loaded = loadRulEnsemble(dir);
    expect(loaded.members).toHaveLength(3);
    expect(loaded.members[0].window).toBe(20);
    expect(loaded.members[0].span).toBeUndefined(); // saved without one: the last `window` readings
    // Weights and normalisation round-trip bit for bit, so predictions are identical.
    expect(predictRulEnsemble(loaded, data, 0.5, 7)).toEqual(mean);
    disposeRulEnsemble(loaded);
    disposeRulEnsemble(ensemble);
  });

  it('loads a single saved model (no ensemble.json) as an ensemble of one', () => {
    const m = member(4);
    saveRul(m, dir, {}, 'synthetic');
    const loaded = loadRulEnsemble(dir);
    expect(loaded.members).toHaveLength(1);
    expect(predictRulEnsemble(loaded, data)).toEqual(predictRul(m, data));
    disposeRulEnsemble(loaded);
    m.model.dispose();
  });

  it('keeps a span with the model: saved, loaded, and used by its predictions', () => {
    const m = { ...member(1), span: 40 };
    const lastOnly = { ...m, span: undefined };
    // 60-cycle engines: 20 readings out of the last 40 cycles are not the last 20 readings.
    const withSpan = predictRul(m, data);
    expect(withSpan).not.toEqual(predictRul(lastOnly, data));
    saveRul(m, dir, {}, 'synthetic');
    const loaded = loadRulEnsemble(dir);
    expect(loaded.members[0].span).toBe(40);
    expect(predictRulEnsemble(loaded, data)).toEqual(withSpan);
    disposeRulEnsemble(loaded);
    m.model.dispose();
  });

  it('refuses directories that hold no model and manifests it cannot read', () => {
    expect(() => loadRulEnsemble(dir)).toThrow(/neither ensemble.json nor model.json/);
    fs.writeFileSync(path.join(dir, 'ensemble.json'), JSON.stringify({ format: 'other', version: 1, members: ['a'] }));
    expect(() => loadRulEnsemble(dir)).toThrow(/not a Continuum RUL ensemble/);
    fs.writeFileSync(
      path.join(dir, 'ensemble.json'),
      JSON.stringify({ format: 'continuum-rul-ensemble', version: 99, members: ['a'] }),
    );
    expect(() => loadRulEnsemble(dir)).toThrow(/newer than this library/);
    expect(() => saveRulEnsemble({ members: [] }, dir, {}, 'x')).toThrow(/at least one member/);
    expect(() => writeRulEnsembleManifest(dir, [], {})).toThrow(/at least one member/);
    expect(() => writeRulEnsembleManifest(dir, [path.join(dir, '..', 'elsewhere')], {})).toThrow(/is not inside/);
  });
});
