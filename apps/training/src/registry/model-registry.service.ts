import { Injectable } from '@nestjs/common';
import { activationConflict, COMPARISON_METRIC, comparisonMetric, TrainingRequestError } from '@continuum/contracts';
import type { ModelEntity, ModelsRepository } from '@continuum/persistence';

/** A version as listed (no weights). */
export type ModelSummary = Omit<ModelEntity, 'weights'>;

/** Result of comparing two versions on their validation metrics. */
export interface Comparison {
  a: ModelSummary;
  b: ModelSummary;
  metric: string;
  /** b's metric minus a's (negative: b is better); null when either lacks it. */
  delta: number | null;
  better: 'a' | 'b' | 'equal' | 'unknown';
  metrics: Record<string, { a: unknown; b: unknown }>;
}

const strip = (m: ModelEntity): ModelSummary => {
  const { weights: _w, ...rest } = m;
  void _w;
  return rest;
};

/**
 * The model registry's decisions: list and compare versions, activate one for its asset type
 * (refused when its validation metric is worse than the active version's, unless forced), roll back
 * to the previously active version. The twin polls `models` and runs the active version.
 */
@Injectable()
export class ModelRegistryService {
  constructor(private readonly models: ModelsRepository) {}

  async list(assetType?: string): Promise<ModelSummary[]> {
    return (await this.models.list({ assetType })).map(strip);
  }

  async get(id: string): Promise<ModelSummary> {
    return strip(await this.require(id));
  }

  private async require(id: string): Promise<ModelEntity> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new TrainingRequestError('not-found', `model ${id} not found`);
    const m = await this.models.findById(id);
    if (!m) throw new TrainingRequestError('not-found', `model ${id} not found`);
    return m;
  }

  async compare(idA: string, idB: string): Promise<Comparison> {
    const [a, b] = [await this.require(idA), await this.require(idB)];
    const ma = comparisonMetric(a);
    const mb = comparisonMetric(b);
    const delta = ma !== null && mb !== null ? mb - ma : null;
    const keys = new Set([...Object.keys(a.metrics ?? {}), ...Object.keys(b.metrics ?? {})]);
    return {
      a: strip(a),
      b: strip(b),
      metric: COMPARISON_METRIC,
      delta,
      better: delta === null ? 'unknown' : delta < 0 ? 'b' : delta > 0 ? 'a' : 'equal',
      metrics: Object.fromEntries([...keys].map((k) => [k, { a: a.metrics?.[k], b: b.metrics?.[k] }])),
    };
  }

  /**
   * Activates a version for its asset type; the previously active one is retired.
   *
   * @throws TrainingRequestError 404 unknown id; 409 when its validation metric is worse than the
   *   active version's (or it has none while the active one has) and `force` is not set
   */
  async activate(id: string, force = false): Promise<{ model: ModelSummary; previous: ModelSummary | null }> {
    const model = await this.require(id);
    const conflict = activationConflict(model, await this.models.active(model.assetType), force);
    if (conflict) throw new TrainingRequestError('conflict', conflict);
    const r = await this.models.activate(id);
    if (!r) throw new TrainingRequestError('not-found', `model ${id} not found`);
    return { model: strip(r.model), previous: r.previous ? strip(r.previous) : null };
  }

  /**
   * Re-activates the version that was active before the current one of an asset type.
   *
   * @throws TrainingRequestError 404 when the asset type has no earlier active version
   */
  async rollback(assetType: string): Promise<{ model: ModelSummary; previous: ModelSummary | null }> {
    const target = await this.models.previouslyActive(assetType);
    if (!target)
      throw new TrainingRequestError(
        'not-found',
        `asset type ${assetType} has no previously active model to roll back to`,
      );
    return this.activate(target.id, true);
  }
}
