import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AugmentedNeuralOde } from './augmented';
import { NeuralCde } from './cde';
import { RulOdeRnn } from './cmapss/rul-model';
import { LatentOde } from './latent-ode';
import type { NeuralModel } from './model';
import { OdeRnnModel } from './ode-rnn-model';

/** Version of the on-disk format written by {@link saveModel}. */
export const FORMAT_VERSION = 1;

/** Input normalisation statistics stored with a model (x_norm = (x − offset) / scale per feature). */
export interface Normalisation {
  features: string[];
  offset: number[];
  scale: number[];
  /** Free-form extras (e.g. dropped constant sensors, RUL cap). */
  [key: string]: unknown;
}

/** Description of the data a model was trained on. */
export interface TrainingDataInfo {
  source: string;
  description?: string;
  [key: string]: unknown;
}

/** What is stored beside the weights. */
export interface SaveOptions {
  normalisation?: Normalisation;
  metrics?: Record<string, unknown>;
  trainingData?: TrainingDataInfo;
  /** Any other JSON (e.g. a task head's settings). */
  extra?: Record<string, unknown>;
}

/** The JSON part of a saved model (`model.json`). */
export interface ModelManifest extends SaveOptions {
  format: 'continuum-neural';
  version: number;
  kind: string;
  config: Record<string, unknown>;
  weights: { name: string; shape: number[]; dtype: 'float32'; offset: number; length: number }[];
  weightsFile: string;
  createdAt: string;
  backend: string;
}

type Factory = (config: any) => NeuralModel;
const registry = new Map<string, Factory>([
  ['latent-ode', (c) => new LatentOde(c)],
  ['ode-rnn', (c) => new OdeRnnModel(c)],
  ['neural-cde', (c) => new NeuralCde(c)],
  ['augmented-node', (c) => new AugmentedNeuralOde(c)],
  ['cmapss-rul-ode-rnn', (c) => new RulOdeRnn(c)],
]);

/** Registers a model kind for {@link loadModel} (task models built on the library's parts). */
export function registerModelKind(kind: string, factory: Factory): void {
  registry.set(kind, factory);
}

/**
 * Saves a model to `dir`: `model.json` (format version, kind, config, weight manifest, normalisation,
 * metrics, training-data description) and `weights.bin` (float32 little-endian, in manifest order).
 */
export function saveModel(model: NeuralModel, dir: string, options: SaveOptions = {}): ModelManifest {
  fs.mkdirSync(dir, { recursive: true });
  const entries = model.params.entries();
  const weights: ModelManifest['weights'] = [];
  let offset = 0;
  const chunks: Buffer[] = [];
  for (const [name, v] of entries) {
    const data = v.dataSync() as Float32Array;
    const buf = Buffer.alloc(data.length * 4);
    for (let i = 0; i < data.length; i++) buf.writeFloatLE(data[i], i * 4);
    chunks.push(buf);
    weights.push({ name, shape: v.shape, dtype: 'float32', offset, length: data.length });
    offset += buf.length;
  }
  const manifest: ModelManifest = {
    format: 'continuum-neural',
    version: FORMAT_VERSION,
    kind: model.kind,
    config: model.config as Record<string, unknown>,
    weights,
    weightsFile: 'weights.bin',
    createdAt: new Date().toISOString(),
    backend: tf.getBackend(),
    ...options,
  };
  const tmp = path.join(dir, `.weights.bin.${process.pid}`);
  fs.writeFileSync(tmp, Buffer.concat(chunks));
  fs.renameSync(tmp, path.join(dir, 'weights.bin'));
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/**
 * Loads a model saved by {@link saveModel}: rebuilds it from its kind and config, then sets every
 * weight to the stored float32 values (bit-identical).
 *
 * @throws Error for an unknown format, version or kind, or weights that do not match the config
 */
export function loadModel<M extends NeuralModel = NeuralModel>(dir: string): { model: M; manifest: ModelManifest } {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as ModelManifest;
  if (manifest.format !== 'continuum-neural') throw new Error(`${dir}: not a Continuum neural model`);
  if (manifest.version > FORMAT_VERSION)
    throw new Error(`${dir}: format version ${manifest.version} is newer than this library's ${FORMAT_VERSION}`);
  const factory = registry.get(manifest.kind);
  if (!factory)
    throw new Error(`${dir}: unknown model kind '${manifest.kind}' (known: ${[...registry.keys()].join(', ')})`);
  const model = factory(manifest.config) as M;
  const bin = fs.readFileSync(path.join(dir, manifest.weightsFile));
  for (const w of manifest.weights) {
    const v = model.params.get(w.name);
    if (!v || !tf.util.arraysEqual(v.shape, w.shape))
      throw new Error(`${dir}: weight '${w.name}' [${w.shape}] does not match the model built from the config`);
    const data = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) data[i] = bin.readFloatLE(w.offset + i * 4);
    v.assign(tf.tensor(data, w.shape, 'float32'));
  }
  if (manifest.weights.length !== model.params.entries().length)
    throw new Error(
      `${dir}: the file has ${manifest.weights.length} weights, the model ${model.params.entries().length}`,
    );
  return { model, manifest };
}
