import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `machine_events`: what ingestion learns about a machine's connection besides its readings —
 * Sparkplug B births, deaths (NDEATH/DDEATH: the machine's data is stale) and sequence gaps
 * (messages lost between the edge node and the broker). One row per (machine, kind, time), so
 * a redelivered message records nothing twice.
 */
export class MachineEvents1764547200002 implements MigrationInterface {
  name = 'MachineEvents1764547200002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE machine_events (
        id bigserial PRIMARY KEY,
        time timestamptz NOT NULL,
        machine_id text NOT NULL,
        plant_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('birth', 'death', 'seq-gap')),
        detail jsonb NOT NULL DEFAULT '{}',
        received_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX machine_events_machine_kind_time_key ON machine_events (machine_id, kind, time);
      CREATE INDEX machine_events_time_idx ON machine_events (time);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE machine_events`);
  }
}
