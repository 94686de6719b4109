import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { hashToken } from './api-keys.repository';

/** A device that authenticated: its machine and plant (for topic authorisation). */
export interface DeviceIdentity {
  machineId: string;
  plantId: string;
}

/**
 * MQTT device credentials, one per machine, stored hashed (SHA-256 of a 32-byte random token);
 * the plain token exists only in the return value of {@link issue}.
 */
export class DeviceCredentialsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Issues (or replaces) the machine's token. */
  async issue(machineId: string): Promise<string> {
    const token = `cd_${randomBytes(32).toString('base64url')}`;
    await this.dataSource.query(
      `INSERT INTO device_credentials (machine_id, token_hash) VALUES ($1, $2)
       ON CONFLICT (machine_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = now()`,
      [machineId, hashToken(token)],
    );
    return token;
  }

  /** The device, when the token is the machine's current one. */
  async verify(machineId: string, token: string): Promise<DeviceIdentity | null> {
    const rows: { token_hash: string; plant_id: string }[] = await this.dataSource.query(
      `SELECT c.token_hash, m.plant_id FROM device_credentials c JOIN machines m ON m.id = c.machine_id
       WHERE c.machine_id = $1`,
      [machineId],
    );
    if (rows.length === 0) return null;
    const expected = Buffer.from(rows[0].token_hash, 'hex');
    const actual = Buffer.from(hashToken(token), 'hex');
    return expected.length === actual.length && timingSafeEqual(expected, actual)
      ? { machineId, plantId: rows[0].plant_id }
      : null;
  }

  /** Removes the machine's credential; false when it had none. */
  async revoke(machineId: string): Promise<boolean> {
    const result: unknown[] = await this.dataSource.query(
      `DELETE FROM device_credentials WHERE machine_id = $1 RETURNING machine_id`,
      [machineId],
    );
    // TypeORM answers a DELETE ... RETURNING with [rows, count] on PostgreSQL.
    const rows = Array.isArray(result[0]) ? (result[0] as unknown[]) : result;
    return rows.length > 0;
  }
}
