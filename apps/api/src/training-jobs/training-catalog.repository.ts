import { Injectable } from '@nestjs/common';
import type { TrainingDataCatalog } from '@continuum/contracts';
import { TrainingJobEntity, type TrainingJobStatus } from '@continuum/persistence';
import { DataSource } from 'typeorm';

/**
 * The api's reads for training jobs: pages of `training_jobs`, and what `admitJob` asks of
 * `machines` and `readings` before a job is queued (the same questions apps/training's
 * TrainingDataRepository answers for the CLI).
 */
@Injectable()
export class TrainingCatalogRepository implements TrainingDataCatalog {
  constructor(private readonly dataSource: DataSource) {}

  /** A page of jobs, newest first. */
  async page(
    filter: { status?: TrainingJobStatus; assetType?: string },
    limit: number,
    offset: number,
  ): Promise<{ items: TrainingJobEntity[]; total: number }> {
    const where: Partial<Pick<TrainingJobEntity, 'status' | 'assetType'>> = {};
    if (filter.status) where.status = filter.status;
    if (filter.assetType) where.assetType = filter.assetType;
    const [items, total] = await this.dataSource
      .getRepository(TrainingJobEntity)
      .findAndCount({ where, order: { createdAt: 'DESC', id: 'ASC' }, take: limit, skip: offset });
    return { items, total };
  }

  async assetTypeExists(assetType: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM machines WHERE asset_type = $1 LIMIT 1`, [
      assetType,
    ]);
    return rows.length > 0;
  }

  machines(assetType: string, ids: string[] | null): Promise<{ id: string }[]> {
    return this.dataSource.query(
      `SELECT id FROM machines WHERE asset_type = $1 AND ($2::text[] IS NULL OR id = ANY($2)) ORDER BY id`,
      [assetType, ids],
    );
  }

  async countReadings(sel: { machineIds: string[]; from: Date; to: Date }, cap: number): Promise<number> {
    const rows: { n: number }[] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM readings WHERE machine_id = ANY($1) AND time >= $2 AND time < $3 LIMIT $4) s`,
      [sel.machineIds, sel.from, sel.to, cap],
    );
    return rows[0]?.n ?? 0;
  }
}
