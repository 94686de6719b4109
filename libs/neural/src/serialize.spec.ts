import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { LatentOde } from './latent-ode';
import { loadModel, saveModel } from './serialize';
import { unionSeries } from './sequences';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});

describe('serialisation', () => {
  it('round-trips config, weights (bit-identical), normalisation, metrics and training data', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neural-'));
    const m = new LatentOde({ obsDim: 2, latentDim: 3, recHidden: 4, dynHidden: [5], seed: 5 });
    // Perturb the weights so that they are not what the seed alone would give.
    m.variables().forEach((v, i) => v.assign(tf.add(v, tf.scalar(0.1 * (i + 1) + 1e-7))));
    const norm = { features: ['a', 'b'], offset: [1.5, -2], scale: [0.25, 3] };
    saveModel(m, dir, {
      normalisation: norm,
      metrics: { rmse: 0.123 },
      trainingData: { source: 'unit test', rows: 3 },
    });
    const { model, manifest } = loadModel<LatentOde>(dir);
    expect(manifest.version).toBe(1);
    expect(manifest.kind).toBe('latent-ode');
    expect(manifest.normalisation).toEqual(norm);
    expect(manifest.metrics).toEqual({ rmse: 0.123 });
    expect(manifest.trainingData?.source).toBe('unit test');
    const a = m.params.entries();
    const b = model.params.entries();
    expect(b.map(([n]) => n)).toEqual(a.map(([n]) => n));
    a.forEach(([, v], i) => {
      const x = Buffer.from((v.dataSync() as Float32Array).buffer);
      const y = Buffer.from((b[i][1].dataSync() as Float32Array).buffer);
      expect(y.equals(x)).toBe(true);
    });
    // Same outputs from the same inputs (the encoder path has no sampling).
    const seq = unionSeries([{ times: [0, 0.5], values: [1, 2, 3, 4] }], 2);
    expect(Array.from(model.encode(seq).mean.dataSync())).toEqual(Array.from(m.encode(seq).mean.dataSync()));
    // Saving the loaded model gives the same bytes.
    const dir2 = fs.mkdtempSync(path.join(os.tmpdir(), 'neural-'));
    saveModel(model, dir2);
    expect(fs.readFileSync(path.join(dir2, 'weights.bin')).equals(fs.readFileSync(path.join(dir, 'weights.bin')))).toBe(
      true,
    );
  });

  it('refuses unknown kinds and newer versions', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neural-'));
    const m = new LatentOde({ obsDim: 1, latentDim: 2, recHidden: 3, seed: 1 });
    saveModel(m, dir);
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...json, version: 99 }));
    expect(() => loadModel(dir)).toThrow(/newer/);
    fs.writeFileSync(file, JSON.stringify({ ...json, kind: 'nope' }));
    expect(() => loadModel(dir)).toThrow(/unknown model kind/);
  });
});
