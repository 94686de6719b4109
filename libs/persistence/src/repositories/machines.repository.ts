import type { DataSource, EntityManager, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { MachineEntity, type SensorSpec } from '../entities';

export interface MachineRegistration {
  id: string;
  plantId: string;
  assetType: string;
  name?: string;
  sensors?: SensorSpec[];
  metadata?: Record<string, unknown>;
}

/** Machines: registration, lookup, and the sensors each one is known to have. */
export class MachinesRepository {
  private readonly repo: Repository<MachineEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(MachineEntity);
  }

  findById(id: string): Promise<MachineEntity | null> {
    return this.repo.findOneBy({ id });
  }

  list(filter: { plantId?: string; assetType?: string } = {}): Promise<MachineEntity[]> {
    return this.repo.find({ where: { ...filter }, order: { id: 'ASC' } });
  }

  /** A page of machines ordered by id, and how many match in all. */
  async page(
    filter: { plantId?: string; plantIds?: readonly string[] | null; assetType?: string },
    limit: number,
    offset: number,
  ): Promise<{ items: MachineEntity[]; total: number }> {
    const qb = this.repo.createQueryBuilder('m').orderBy('m.id', 'ASC').take(limit).skip(offset);
    if (filter.plantId) qb.andWhere('m.plant_id = :plantId', { plantId: filter.plantId });
    if (filter.plantIds)
      qb.andWhere('m.plant_id IN (:...plantIds)', { plantIds: filter.plantIds.length ? filter.plantIds : [''] });
    if (filter.assetType) qb.andWhere('m.asset_type = :assetType', { assetType: filter.assetType });
    const [items, total] = await qb.getManyAndCount();
    return { items, total };
  }

  /** Registers a new machine; false when the id is taken. */
  async insert(machine: MachineRegistration): Promise<boolean> {
    const result = await this.repo
      .createQueryBuilder()
      .insert()
      .values({
        id: machine.id,
        plantId: machine.plantId,
        assetType: machine.assetType,
        name: machine.name ?? machine.id,
        sensors: machine.sensors ?? [],
        metadata: machine.metadata ?? {},
      } as QueryDeepPartialEntity<MachineEntity>)
      .orIgnore()
      .returning('id')
      .execute();
    return result.raw.length > 0;
  }

  /** Changes the given fields of a machine; false when it does not exist. */
  async update(id: string, changes: Partial<Omit<MachineRegistration, 'id'>>): Promise<boolean> {
    const result = await this.repo.update({ id }, changes as QueryDeepPartialEntity<MachineEntity>);
    return (result.affected ?? 0) > 0;
  }

  /** Registers a machine, or updates it if it exists; returns the stored row. */
  async upsert(machine: MachineRegistration): Promise<MachineEntity> {
    await this.repo.upsert(
      {
        id: machine.id,
        plantId: machine.plantId,
        assetType: machine.assetType,
        name: machine.name ?? machine.id,
        sensors: machine.sensors ?? [],
        metadata: machine.metadata ?? {},
      } as QueryDeepPartialEntity<MachineEntity>,
      { conflictPaths: ['id'] },
    );
    return (await this.findById(machine.id))!;
  }

  /**
   * Registers machines seen for the first time (auto-registration) and adds sensors not yet
   * listed, in one statement; existing machines keep their plant, type and sensor specs.
   */
  async ensureSeen(
    seen: readonly { id: string; plantId: string; assetType: string; sensors: readonly string[] }[],
    manager: EntityManager = this.repo.manager,
  ): Promise<void> {
    if (seen.length === 0) return;
    // Rows inserted in one order (by id: ORDER BY below; sorted here too) in every instance: two
    // transactions registering the same new machines then lock their keys in the same order and
    // wait for each other instead of deadlocking.
    const rows = [...seen].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    await manager.query(
      // EXCLUDED.sensors is the inserted value, already [{"name": ...}]: compare by name.
      `INSERT INTO machines AS m (id, plant_id, asset_type, name, sensors)
       SELECT s.id, s.plant_id, s.asset_type, s.id,
              (SELECT coalesce(jsonb_agg(jsonb_build_object('name', n)), '[]') FROM jsonb_array_elements_text(s.sensors) n)
       FROM jsonb_to_recordset($1::jsonb) AS s(id text, plant_id text, asset_type text, sensors jsonb)
       ORDER BY s.id
       ON CONFLICT (id) DO UPDATE SET
         sensors = m.sensors || (
           SELECT coalesce(jsonb_agg(e), '[]')
           FROM jsonb_array_elements(EXCLUDED.sensors) e
           WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(m.sensors) x WHERE x->>'name' = e->>'name')),
         stale_since = NULL,
         updated_at = now()
       WHERE m.stale_since IS NOT NULL OR EXISTS (
           SELECT 1 FROM jsonb_array_elements(EXCLUDED.sensors) e
           WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(m.sensors) x WHERE x->>'name' = e->>'name'))`,
      [
        JSON.stringify(
          rows.map((s) => ({ id: s.id, plant_id: s.plantId, asset_type: s.assetType, sensors: s.sensors })),
        ),
      ],
    );
  }

  async markStale(id: string, since: Date, manager: EntityManager = this.repo.manager): Promise<void> {
    await manager.getRepository(MachineEntity).update({ id }, { staleSince: since });
  }

  /** Which of these machine ids are registered. */
  async existing(ids: readonly string[], manager: EntityManager = this.repo.manager): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: { id: string }[] = await manager.query(`SELECT id FROM machines WHERE id = ANY($1::text[])`, [ids]);
    return new Set(rows.map((r) => r.id));
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.repo.delete({ id });
    return (result.affected ?? 0) > 0;
  }
}
