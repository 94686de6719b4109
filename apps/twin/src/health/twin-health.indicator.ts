import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { TwinService } from '../service/twin.service';

/**
 * `twin: up` while the partition lease loop runs: down when no lease round has completed for a lease
 * TTL (TWIN_LEASE_TTL_MS, 5 renewal periods by default) — the loop is stuck or failing (database
 * unreachable), and by then this instance's leases have expired, so it processes nothing.
 */
@Injectable()
export class TwinHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly twin: TwinService,
  ) {}

  check(key = 'twin') {
    const session = this.health.check(key);
    const manager = this.twin.partitions;
    const ageMs = manager.roundAgeMs();
    const details = {
      instance: this.twin.config.instance,
      partitions: manager.ownedPartitions.length,
      lastLeaseRoundAgeMs: Math.round(ageMs),
      staleAfterMs: this.twin.config.leaseTtlMs,
    };
    if (ageMs > this.twin.config.leaseTtlMs)
      return session.down({ ...details, message: `no lease round completed for ${(ageMs / 1000).toFixed(1)} s` });
    return session.up(details);
  }
}
