import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MQTT device credentials (issue 12): one per machine, provisioned through the api
 * (`POST /api/v1/machines/{id}/credentials`). Only the SHA-256 of the token is stored; the embedded
 * broker checks it when MQTT_DEVICE_AUTH=true (username = machine id, password = token).
 */
export class DeviceCredentials1764547200013 implements MigrationInterface {
  name = 'DeviceCredentials1764547200013';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE device_credentials (
        machine_id text PRIMARY KEY REFERENCES machines (id) ON DELETE CASCADE,
        token_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE device_credentials`);
  }
}
