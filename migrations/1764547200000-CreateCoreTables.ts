import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The platform's tables, as plain PostgreSQL. TimescaleDB features follow in the next migration. */
export class CreateCoreTables1764547200000 implements MigrationInterface {
  name = 'CreateCoreTables1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE machines (
        id text PRIMARY KEY,
        plant_id text NOT NULL,
        asset_type text NOT NULL,
        name text NOT NULL,
        sensors jsonb NOT NULL DEFAULT '[]',
        metadata jsonb NOT NULL DEFAULT '{}',
        stale_since timestamptz,
        registered_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX machines_plant_idx ON machines (plant_id);
      CREATE INDEX machines_asset_type_idx ON machines (asset_type);

      CREATE TABLE readings (
        time timestamptz NOT NULL,
        machine_id text NOT NULL,
        sensor text NOT NULL,
        value double precision NOT NULL,
        CONSTRAINT readings_pkey PRIMARY KEY (machine_id, sensor, time)
      );
      CREATE INDEX readings_time_desc_idx ON readings (time DESC);

      CREATE TABLE twin_states (
        machine_id text PRIMARY KEY,
        model_id uuid,
        time timestamptz NOT NULL,
        state jsonb NOT NULL,
        step_size double precision,
        updates integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE models (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        asset_type text NOT NULL,
        version integer NOT NULL,
        kind text NOT NULL,
        status text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'active', 'retired')),
        config jsonb NOT NULL,
        weights bytea,
        normalisation jsonb NOT NULL DEFAULT '{}',
        metrics jsonb NOT NULL DEFAULT '{}',
        training_data jsonb NOT NULL DEFAULT '{}',
        solver jsonb NOT NULL DEFAULT '{}',
        training_job_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        activated_at timestamptz
      );
      CREATE UNIQUE INDEX models_asset_type_version_key ON models (asset_type, version);
      CREATE UNIQUE INDEX models_one_active_per_asset_type ON models (asset_type) WHERE status = 'active';

      CREATE TABLE training_jobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        asset_type text NOT NULL,
        machine_ids jsonb,
        range_from timestamptz,
        range_to timestamptz,
        model_kind text NOT NULL DEFAULT 'latent-ode',
        hyperparameters jsonb NOT NULL DEFAULT '{}',
        solver text NOT NULL DEFAULT 'dopri5',
        gradient text NOT NULL DEFAULT 'adjoint',
        status text NOT NULL DEFAULT 'queued'
          CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
        progress jsonb NOT NULL DEFAULT '{}',
        error text,
        model_id uuid REFERENCES models (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        heartbeat_at timestamptz
      );
      CREATE INDEX training_jobs_status_idx ON training_jobs (status, created_at);

      CREATE TABLE alerts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        machine_id text NOT NULL,
        plant_id text NOT NULL,
        rule_id text,
        kind text NOT NULL CHECK (kind IN ('divergence', 'forecast', 'threshold')),
        severity text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved', 'cleared')),
        message text NOT NULL,
        count integer NOT NULL DEFAULT 1,
        peak double precision,
        details jsonb NOT NULL DEFAULT '{}',
        history jsonb NOT NULL DEFAULT '[]',
        raised_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX alerts_machine_idx ON alerts (machine_id, raised_at);
      -- One unresolved alert per (machine, rule): repeated triggers update it.
      CREATE UNIQUE INDEX alerts_one_unresolved_per_rule ON alerts (machine_id, rule_id)
        WHERE status IN ('open', 'acknowledged');

      CREATE TABLE work_orders (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        machine_id text NOT NULL,
        title text NOT NULL,
        description text NOT NULL DEFAULT '',
        priority text NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
        status text NOT NULL DEFAULT 'open'
          CHECK (status IN ('draft', 'open', 'scheduled', 'in-progress', 'done', 'cancelled')),
        due_by timestamptz,
        window_start timestamptz,
        window_end timestamptz,
        crew text,
        estimated_minutes integer NOT NULL DEFAULT 60 CHECK (estimated_minutes > 0),
        alert_ids jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (window_end IS NULL OR window_start IS NULL OR window_end > window_start)
      );
      CREATE INDEX work_orders_machine_idx ON work_orders (machine_id);
      CREATE INDEX work_orders_status_idx ON work_orders (status);

      CREATE TABLE dead_letters (
        id bigserial PRIMARY KEY,
        received_at timestamptz NOT NULL,
        source text NOT NULL,
        reason text NOT NULL,
        detail text NOT NULL DEFAULT '',
        payload text NOT NULL,
        payload_encoding text NOT NULL CHECK (payload_encoding IN ('utf8', 'hex')),
        payload_bytes integer NOT NULL
      );
      CREATE INDEX dead_letters_received_idx ON dead_letters (received_at);
      CREATE INDEX dead_letters_reason_idx ON dead_letters (reason);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE dead_letters;
      DROP TABLE work_orders;
      DROP TABLE alerts;
      DROP TABLE training_jobs;
      DROP TABLE models;
      DROP TABLE twin_states;
      DROP TABLE readings;
      DROP TABLE machines;
    `);
  }
}
