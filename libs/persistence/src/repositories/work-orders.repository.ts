import { In, type DataSource, type EntityManager, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { WorkOrderEntity, type WorkOrderStatus } from '../entities';

export type NewWorkOrder = Pick<WorkOrderEntity, 'machineId' | 'title'> &
  Partial<
    Pick<
      WorkOrderEntity,
      | 'description'
      | 'priority'
      | 'status'
      | 'dueBy'
      | 'windowStart'
      | 'windowEnd'
      | 'crew'
      | 'estimatedMinutes'
      | 'alertIds'
    >
  >;

/** Work orders: maintenance tasks, created by people, by predictive alerts, or by an accepted schedule. */
export class WorkOrdersRepository {
  private readonly repo: Repository<WorkOrderEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(WorkOrderEntity);
  }

  create(order: NewWorkOrder, manager?: EntityManager): Promise<WorkOrderEntity> {
    const repo = manager ? manager.getRepository(WorkOrderEntity) : this.repo;
    return repo.save(repo.create(order));
  }

  findById(id: string): Promise<WorkOrderEntity | null> {
    return this.repo.findOneBy({ id });
  }

  findByIds(ids: readonly string[]): Promise<WorkOrderEntity[]> {
    return ids.length ? this.repo.findBy({ id: In([...ids]) }) : Promise.resolve([]);
  }

  async page(
    filter: { machineIds?: readonly string[]; statuses?: readonly WorkOrderStatus[] },
    limit: number,
    offset: number,
  ): Promise<{ items: WorkOrderEntity[]; total: number }> {
    const qb = this.repo
      .createQueryBuilder('w')
      .orderBy('w.created_at', 'DESC')
      .addOrderBy('w.id')
      .take(limit)
      .skip(offset);
    if (filter.machineIds)
      qb.andWhere('w.machine_id IN (:...machineIds)', {
        machineIds: filter.machineIds.length ? filter.machineIds : [''],
      });
    if (filter.statuses?.length) qb.andWhere('w.status IN (:...statuses)', { statuses: filter.statuses });
    const [items, total] = await qb.getManyAndCount();
    return { items, total };
  }

  /** Scheduled or in-progress work whose window overlaps [from, to): the crews' existing bookings. */
  bookedBetween(from: Date, to: Date): Promise<WorkOrderEntity[]> {
    return this.repo
      .createQueryBuilder('w')
      .where(`w.status IN ('scheduled', 'in-progress')`)
      .andWhere('w.window_start < :to AND w.window_end > :from', { from, to })
      .getMany();
  }

  async update(id: string, changes: Partial<NewWorkOrder>, manager?: EntityManager): Promise<boolean> {
    const repo = manager ? manager.getRepository(WorkOrderEntity) : this.repo;
    const result = await repo.update({ id }, changes as QueryDeepPartialEntity<WorkOrderEntity>);
    return (result.affected ?? 0) > 0;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.repo.delete({ id });
    return (result.affected ?? 0) > 0;
  }
}
