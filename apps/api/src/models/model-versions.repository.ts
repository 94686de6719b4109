import { Injectable } from '@nestjs/common';
import { MODEL_SUMMARY_COLUMNS, ModelEntity, type ModelStatus } from '@continuum/persistence';
import { DataSource } from 'typeorm';

/** A model version without its weights. */
export type ModelSummary = Omit<ModelEntity, 'weights'>;

/** Reads of `models` for the api, never loading weights (activation goes through ModelsRepository). */
@Injectable()
export class ModelVersionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private query() {
    return this.dataSource.getRepository(ModelEntity).createQueryBuilder('m').select(MODEL_SUMMARY_COLUMNS);
  }

  /** A page of versions: by asset type, newest version first. */
  async page(
    filter: { assetType?: string; status?: ModelStatus },
    limit: number,
    offset: number,
  ): Promise<{ items: ModelSummary[]; total: number }> {
    const q = this.query().where('TRUE');
    if (filter.assetType) q.andWhere('m.asset_type = :assetType', { assetType: filter.assetType });
    if (filter.status) q.andWhere('m.status = :status', { status: filter.status });
    const [items, total] = await q
      .orderBy('m.asset_type', 'ASC')
      .addOrderBy('m.version', 'DESC')
      .take(limit)
      .skip(offset)
      .getManyAndCount();
    return { items, total };
  }

  findById(id: string): Promise<ModelSummary | null> {
    return this.query().where('m.id = :id', { id }).getOne();
  }

  /** The active version of an asset type, if any. */
  active(assetType: string): Promise<ModelSummary | null> {
    return this.query().where('m.asset_type = :assetType', { assetType }).andWhere(`m.status = 'active'`).getOne();
  }
}
