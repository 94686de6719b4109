import { In, type DataSource, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { TwinStateEntity } from '../entities';

/** Checkpoints of twin states, written in batches and restored after a restart. */
export class TwinStatesRepository {
  private readonly repo: Repository<TwinStateEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(TwinStateEntity);
  }

  async saveMany(states: readonly Omit<TwinStateEntity, 'updatedAt'>[]): Promise<void> {
    if (states.length === 0) return;
    await this.repo.upsert([...states] as QueryDeepPartialEntity<TwinStateEntity>[], { conflictPaths: ['machineId'] });
  }

  load(machineIds: readonly string[]): Promise<TwinStateEntity[]> {
    return machineIds.length === 0 ? Promise.resolve([]) : this.repo.findBy({ machineId: In([...machineIds]) });
  }

  async reset(machineId: string): Promise<boolean> {
    const result = await this.repo.delete({ machineId });
    return (result.affected ?? 0) > 0;
  }
}
