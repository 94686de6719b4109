import type { DataSource, EntityManager, Repository } from 'typeorm';
import { ModelEntity } from '../entities';

/** What a finished training run stores as a new model version (the version number is assigned here). */
export interface NewModelVersion {
  assetType: string;
  kind: string;
  config: Record<string, unknown>;
  weights: Buffer;
  normalisation: Record<string, unknown>;
  metrics: Record<string, unknown>;
  trainingData: Record<string, unknown>;
  solver: Record<string, unknown>;
  trainingJobId: string | null;
}

/** Every column of `models` but the weights, for a query builder aliased `m` (lists, summaries). */
export const MODEL_SUMMARY_COLUMNS = [
  'm.id',
  'm.assetType',
  'm.version',
  'm.kind',
  'm.status',
  'm.config',
  'm.normalisation',
  'm.metrics',
  'm.trainingData',
  'm.solver',
  'm.trainingJobId',
  'm.createdAt',
  'm.activatedAt',
];

/**
 * The model registry's SQL (`models`): versions per asset type, at most one `active` per asset type
 * (the partial unique index `models_one_active_per_asset_type`). Decisions (may this version be
 * activated?) are the caller's; this class only reads and writes.
 */
export class ModelsRepository {
  private readonly repo: Repository<ModelEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(ModelEntity);
  }

  findById(id: string): Promise<ModelEntity | null> {
    return this.repo.findOneBy({ id });
  }

  /** Versions, newest first, without weights. */
  list(filter: { assetType?: string } = {}): Promise<ModelEntity[]> {
    return this.repo
      .createQueryBuilder('m')
      .select(MODEL_SUMMARY_COLUMNS)
      .where(filter.assetType ? 'm.asset_type = :assetType' : 'TRUE', { assetType: filter.assetType })
      .orderBy('m.asset_type', 'ASC')
      .addOrderBy('m.version', 'DESC')
      .getMany();
  }

  /** The active version of an asset type, if any. */
  active(assetType: string): Promise<ModelEntity | null> {
    return this.repo.findOneBy({ assetType, status: 'active' });
  }

  /**
   * Stores a new `candidate` version numbered one above the asset type's highest; retries when a
   * concurrent insert took the number.
   */
  async insert(v: NewModelVersion): Promise<ModelEntity> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.dataSource.transaction(async (em) => {
          const rows: { v: number | null }[] = await em.query(
            `SELECT max(version) AS v FROM models WHERE asset_type = $1`,
            [v.assetType],
          );
          const version = Number(rows[0]?.v ?? 0) + 1;
          const entity = em.create(ModelEntity, { ...v, version, status: 'candidate' });
          return em.save(entity);
        });
      } catch (err) {
        if (attempt < 3 && (err as { code?: string }).code === '23505') continue;
        throw err;
      }
    }
  }

  /**
   * Makes `id` the active version of its asset type in one transaction: the current active one (if
   * another) becomes `retired`. Returns the model before and after, or null when `id` is unknown.
   */
  async activate(id: string): Promise<{ previous: ModelEntity | null; model: ModelEntity } | null> {
    return this.dataSource.transaction(async (em: EntityManager) => {
      const model = await em.findOne(ModelEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!model) return null;
      const previous = await em.findOneBy(ModelEntity, { assetType: model.assetType, status: 'active' });
      if (previous && previous.id !== model.id)
        await em.update(ModelEntity, { id: previous.id }, { status: 'retired' });
      await em.update(ModelEntity, { id }, { status: 'active', activatedAt: new Date() });
      return { previous: previous?.id === id ? null : previous, model: (await em.findOneBy(ModelEntity, { id }))! };
    });
  }

  /**
   * The version that was active before the current one: the retired version of the asset type
   * activated most recently (null when none was ever activated before).
   */
  previouslyActive(assetType: string): Promise<ModelEntity | null> {
    return this.repo
      .createQueryBuilder('m')
      .where('m.asset_type = :assetType', { assetType })
      .andWhere(`m.status = 'retired'`)
      .andWhere('m.activated_at IS NOT NULL')
      .orderBy('m.activated_at', 'DESC')
      .getOne();
  }

  /** Retires the active version of an asset type (the twin falls back to its shipped default). */
  async deactivate(assetType: string): Promise<boolean> {
    const r = await this.repo.update({ assetType, status: 'active' }, { status: 'retired' });
    return (r.affected ?? 0) > 0;
  }
}
