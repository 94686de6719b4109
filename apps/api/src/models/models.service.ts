import { Injectable } from '@nestjs/common';
import { activationConflict, COMPARISON_METRIC, comparisonMetric, TrainingRequestError } from '@continuum/contracts';
import { ModelsRepository, type ModelEntity } from '@continuum/persistence';
import type { Principal } from '../auth/principal';
import type { Page } from '../common/pagination.dto';
import { fleetWide } from '../training-jobs/training-jobs.service';
import type { ActivationDto, ListModelsQuery, ModelComparisonDto } from './dto/model.dto';
import { ModelVersionsRepository, type ModelSummary } from './model-versions.repository';

const strip = (m: ModelEntity): ModelSummary => {
  const { weights: _w, ...rest } = m;
  void _w;
  return rest;
};

/**
 * The model registry through the api: list, get and compare versions, activate one (refused with
 * 409 when its validation loss is worse than the active version's, unless forced: the rule of
 * `activationConflict` in @continuum/contracts that `npm run models -- activate` applies too), and
 * roll the active version back to the one active before it. Activation writes `models` through the
 * same `ModelsRepository.activate` as the CLI; the twin polls `models` (TWIN_MODEL_POLL_MS) and runs
 * the active version of each asset type.
 */
@Injectable()
export class ModelsService {
  constructor(
    private readonly versions: ModelVersionsRepository,
    private readonly models: ModelsRepository,
  ) {}

  async list(q: ListModelsQuery): Promise<Page<ModelSummary>> {
    const { items, total } = await this.versions.page({ assetType: q.assetType, status: q.status }, q.limit, q.offset);
    return { items, total, limit: q.limit, offset: q.offset };
  }

  async get(id: string): Promise<ModelSummary> {
    const m = await this.versions.findById(id);
    if (!m) throw new TrainingRequestError('not-found', `model ${id} does not exist`);
    return m;
  }

  async compare(idA: string, idB: string): Promise<ModelComparisonDto> {
    const [a, b] = [await this.get(idA), await this.get(idB)];
    const ma = comparisonMetric(a);
    const mb = comparisonMetric(b);
    const delta = ma !== null && mb !== null ? mb - ma : null;
    const keys = new Set([...Object.keys(a.metrics ?? {}), ...Object.keys(b.metrics ?? {})]);
    return {
      a,
      b,
      metric: COMPARISON_METRIC,
      delta,
      better: delta === null ? 'unknown' : delta < 0 ? 'b' : delta > 0 ? 'a' : 'equal',
      metrics: Object.fromEntries([...keys].map((k) => [k, { a: a.metrics?.[k], b: b.metrics?.[k] }])),
    };
  }

  /** @throws TrainingRequestError 404 unknown id; 409 worse validation loss than the active version without `force` */
  async activate(principal: Principal, id: string, force = false): Promise<ActivationDto> {
    fleetWide(principal, 'activate models');
    const model = await this.get(id);
    const conflict = activationConflict(model, await this.versions.active(model.assetType), force);
    if (conflict) throw new TrainingRequestError('conflict', conflict);
    return this.activateUnchecked(id);
  }

  /**
   * Re-activates the version that was active before `id`, which must be its asset type's active
   * version (forced, as `npm run models -- rollback`: going back is always allowed).
   *
   * @throws TrainingRequestError 404 unknown id or no earlier active version; 409 `id` is not active
   */
  async rollback(principal: Principal, id: string): Promise<ActivationDto> {
    fleetWide(principal, 'roll back models');
    const model = await this.get(id);
    if (model.status !== 'active')
      throw new TrainingRequestError(
        'conflict',
        `model ${model.assetType} v${model.version} is ${model.status}; only the active version can be rolled back`,
      );
    const target = await this.models.previouslyActive(model.assetType);
    if (!target)
      throw new TrainingRequestError(
        'not-found',
        `asset type ${model.assetType} has no previously active model to roll back to`,
      );
    return this.activateUnchecked(target.id);
  }

  private async activateUnchecked(id: string): Promise<ActivationDto> {
    const r = await this.models.activate(id);
    if (!r) throw new TrainingRequestError('not-found', `model ${id} does not exist`);
    return { model: strip(r.model), previous: r.previous ? strip(r.previous) : null };
  }
}
