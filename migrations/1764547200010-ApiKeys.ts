import type { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys: opaque bearer tokens, stored only as SHA-256 hashes, each with a role and plant scope. */
export class ApiKeys1764547200010 implements MigrationInterface {
  name = 'ApiKeys1764547200010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        -- Plants the key may see; NULL means every plant.
        plant_ids jsonb,
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
  }
}
