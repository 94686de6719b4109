import type { DataSource, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AlertRuleEntity } from '../entities';

/** The fields of a rule a caller sets (the rest are generated). */
export type AlertRuleInput = Omit<AlertRuleEntity, 'id' | 'createdAt' | 'updatedAt'>;

/** Alert rules (apps/alerting): CRUD. Validation is the caller's (the alerting service). */
export class AlertRulesRepository {
  private readonly repo: Repository<AlertRuleEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(AlertRuleEntity);
  }

  list(): Promise<AlertRuleEntity[]> {
    return this.repo.find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  findById(id: string): Promise<AlertRuleEntity | null> {
    return this.repo.findOneBy({ id });
  }

  create(rule: AlertRuleInput): Promise<AlertRuleEntity> {
    return this.repo.save(this.repo.create(rule));
  }

  /** Changes the given fields; null when the rule does not exist. */
  async update(id: string, changes: Partial<AlertRuleInput>): Promise<AlertRuleEntity | null> {
    const result = await this.repo.update({ id }, changes as QueryDeepPartialEntity<AlertRuleEntity>);
    return (result.affected ?? 0) > 0 ? this.findById(id) : null;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.repo.delete({ id });
    return (result.affected ?? 0) > 0;
  }
}
