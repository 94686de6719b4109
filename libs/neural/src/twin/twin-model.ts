import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OdeRnnModel, type OdeRnnModelConfig } from '../ode-rnn-model';
import { loadModel, type ModelManifest } from '../serialize';

/**
 * A model the twin can run: an ODE-RNN in its online-filter form (OdeRnnModel:
 * latent ODE between readings, masked GRU at readings, Gaussian read-out), with the sensor order and
 * normalisation it was trained on and its unit of time.
 */
export interface TwinModel {
  /** `models.id` of a registry model; null for a shipped default. */
  id: string | null;
  assetType: string;
  /** Shown in twin messages: `<assetType>@v<version>` or `default:<assetType>`. */
  version: string;
  model: OdeRnnModel;
  /** Sensor names in the model's input order. */
  sensors: string[];
  offset: Float64Array;
  scale: Float64Array;
  /** Milliseconds per unit of model time. */
  timeScaleMs: number;
}

/** Model time unit when the normalisation does not say: one hour. */
export const DEFAULT_TIME_SCALE_MS = 3_600_000;

/** Model kinds the twin can filter with. */
export const FILTERABLE_KINDS = ['ode-rnn'];

function fromNormalisation(
  norm: Record<string, unknown> | undefined,
  obsDim: number,
): { sensors: string[]; offset: Float64Array; scale: Float64Array; timeScaleMs: number } {
  const features = Array.isArray(norm?.features) ? (norm.features as string[]) : [];
  if (features.length !== obsDim)
    throw new Error(`normalisation names ${features.length} sensors, the model reads ${obsDim}`);
  const offset = Float64Array.from(features, (_, i) => Number((norm?.offset as number[] | undefined)?.[i] ?? 0));
  const scale = Float64Array.from(features, (_, i) => Number((norm?.scale as number[] | undefined)?.[i] ?? 1) || 1);
  const timeScaleMs = Number(norm?.timeScaleMs ?? DEFAULT_TIME_SCALE_MS);
  if (!(timeScaleMs > 0)) throw new Error(`bad normalisation.timeScaleMs ${String(norm?.timeScaleMs)}`);
  return { sensors: features, offset, scale, timeScaleMs };
}

/** Loads a model saved by `saveModel` (a shipped default in `models/default/<asset-type>`). */
export function loadTwinModelFromDirectory(dir: string, assetType: string): TwinModel {
  const { model, manifest } = loadModel<OdeRnnModel>(dir);
  if (!FILTERABLE_KINDS.includes(manifest.kind))
    throw new Error(`${dir}: model kind '${manifest.kind}' has no online filter form (expected ode-rnn)`);
  return {
    id: null,
    assetType,
    version: `default:${assetType}`,
    model,
    ...fromNormalisation(manifest.normalisation, model.config.obsDim),
  };
}

/** The shipped default models: every `<dir>/<asset-type>/model.json`. */
export function loadDefaultModels(dir: string, log?: (m: string) => void): Map<string, TwinModel> {
  const models = new Map<string, TwinModel>();
  if (!fs.existsSync(dir)) return models;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !fs.existsSync(path.join(dir, entry.name, 'model.json'))) continue;
    try {
      models.set(entry.name, loadTwinModelFromDirectory(path.join(dir, entry.name), entry.name));
    } catch (err) {
      log?.(`default model ${entry.name} not loaded: ${(err as Error).message}`);
    }
  }
  return models;
}

/** A row of the `models` table as the twin reads it. */
export interface ModelRow {
  id: string;
  assetType: string;
  version: number;
  kind: string;
  config: Record<string, unknown>;
  weights: Buffer | null;
  normalisation: Record<string, unknown>;
}

/**
 * Builds a twin model from a registry row: `config` is the OdeRnnModel config (or a whole
 * `model.json` manifest, whose `config` is then used), `weights` the float32 little-endian weights in
 * the model's parameter order (the `weights.bin` written by `saveModel`).
 *
 * @throws Error for a kind without a filter form, missing or mis-sized weights, bad normalisation
 */
export function loadTwinModelFromRow(row: ModelRow): TwinModel {
  if (!FILTERABLE_KINDS.includes(row.kind))
    throw new Error(`model ${row.assetType} v${row.version}: kind '${row.kind}' has no online filter form`);
  const manifest = row.config as Partial<ModelManifest>;
  const config = (manifest.format === 'continuum-neural'
    ? manifest.config
    : row.config) as unknown as OdeRnnModelConfig;
  const norm =
    row.normalisation && Object.keys(row.normalisation).length > 0
      ? row.normalisation
      : (manifest.normalisation as Record<string, unknown> | undefined);
  if (!row.weights) throw new Error(`model ${row.assetType} v${row.version}: no weights`);
  const model = new OdeRnnModel(config);
  const entries = model.params.entries();
  const total = entries.reduce((n, [, v]) => n + v.size, 0);
  if (row.weights.length !== total * 4)
    throw new Error(
      `model ${row.assetType} v${row.version}: ${row.weights.length} bytes of weights, the config needs ${total * 4}`,
    );
  let offset = 0;
  for (const [, v] of entries) {
    const data = new Float32Array(v.size);
    for (let i = 0; i < v.size; i++) data[i] = row.weights.readFloatLE(offset + i * 4);
    offset += v.size * 4;
    v.assign(tf.tensor(data, v.shape, 'float32'));
  }
  return {
    id: row.id,
    assetType: row.assetType,
    version: `${row.assetType}@v${row.version}`,
    model,
    ...fromNormalisation(norm, config.obsDim),
  };
}

/** Frees a model's weights. */
export function disposeTwinModel(m: TwinModel): void {
  m.model.params.entries().forEach(([, v]) => v.dispose());
}
