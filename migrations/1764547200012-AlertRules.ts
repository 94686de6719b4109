import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Alert rules of apps/alerting: detector, scope, thresholds with hysteresis, escalation, auto-clear. */
export class AlertRules1764547200012 implements MigrationInterface {
  name = 'AlertRules1764547200012';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE alert_rules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        -- Scope: one machine, every machine of an asset type, or (both NULL) every machine.
        machine_id text,
        asset_type text,
        detector text NOT NULL CHECK (detector IN ('residual-cusum', 'anomaly-cusum', 'forecast')),
        sensors jsonb,
        params jsonb NOT NULL DEFAULT '{}',
        raise_at double precision NOT NULL,
        clear_at double precision NOT NULL,
        severity text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
        min_duration_ms double precision NOT NULL DEFAULT 0 CHECK (min_duration_ms >= 0),
        escalate_after_ms double precision CHECK (escalate_after_ms > 0),
        escalate_to text CHECK (escalate_to IN ('critical', 'major', 'minor', 'warning')),
        auto_clear_ms double precision NOT NULL DEFAULT 600000 CHECK (auto_clear_ms >= 0),
        create_work_order boolean NOT NULL DEFAULT false,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        -- Hysteresis: the condition clears below the level that raises it.
        CHECK (clear_at < raise_at),
        CHECK (machine_id IS NULL OR asset_type IS NULL)
      );
      CREATE INDEX alert_rules_scope_idx ON alert_rules (machine_id, asset_type);
      -- Unresolved alerts are looked up at start and by machine.
      CREATE INDEX alerts_unresolved_idx ON alerts (machine_id) WHERE status IN ('open', 'acknowledged');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX alerts_unresolved_idx`);
    await q.query(`DROP TABLE alert_rules`);
  }
}
