import type { TwinLeasesRepository } from '@continuum/persistence';

/** What the partition manager tells the service. */
export interface PartitionListener {
  /** Partitions newly held: restore their checkpoints before their events are processed. */
  acquired(partitions: number[]): Promise<void>;
  /** Partitions about to be given up (checkpoint them), or already lost (lease expired elsewhere). */
  releasing(partitions: number[]): Promise<void>;
}

export interface PartitionSettings {
  instance: string;
  partitions: number;
  ttlMs: number;
  renewMs: number;
}

/**
 * Holds this instance's share of the partitions through lease rows (TwinLeasesRepository): every
 * `renewMs` it announces itself, renews its leases, gives up what it holds beyond its fair share
 * (ceil(partitions / live instances)) after checkpointing it, and claims free or expired partitions up
 * to its share. A stopped instance deletes its leases (others take over at their next tick); a crashed
 * one's leases expire after `ttlMs`. A single instance holds every partition.
 */
export class PartitionManager {
  private readonly owned = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly leases: TwinLeasesRepository,
    private readonly settings: PartitionSettings,
    private readonly listener: PartitionListener,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Whether this instance holds the partition now. */
  owns(partition: number): boolean {
    return this.owned.has(partition);
  }

  get ownedPartitions(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  /** First tick (claims its share), then one every `renewMs`. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.settings.renewMs);
    this.timer.unref();
  }

  /** One round of heartbeat, renew, rebalance and claim; never overlaps itself. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.ticking ??= this.run().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async run(): Promise<void> {
    const { instance, partitions, ttlMs } = this.settings;
    try {
      const live = Math.max(1, await this.leases.heartbeat(instance, ttlMs));
      const held = new Set(await this.leases.renew(instance, [...this.owned], ttlMs));
      const lost = [...this.owned].filter((p) => !held.has(p));
      if (lost.length > 0) {
        lost.forEach((p) => this.owned.delete(p));
        await this.listener.releasing(lost);
      }
      const share = Math.ceil(partitions / live);
      if (this.owned.size > share) {
        const give = this.ownedPartitions.slice(share);
        give.forEach((p) => this.owned.delete(p));
        await this.listener.releasing(give);
        await this.leases.release(instance, give);
      } else if (this.owned.size < share) {
        const got = await this.leases.claim(instance, partitions, share - this.owned.size, ttlMs);
        if (got.length > 0) {
          // Restore the partitions' checkpoints before owning them, so that no reading is applied
          // to a fresh twin in between; give the leases back if that fails.
          try {
            await this.listener.acquired(got);
          } catch (err) {
            await this.leases.release(instance, got);
            throw err;
          }
          got.forEach((p) => this.owned.add(p));
        }
      }
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** Stops ticking, checkpoints and releases every partition, and leaves. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    this.stopped = true;
    const all = this.ownedPartitions;
    this.owned.clear();
    try {
      if (all.length > 0) await this.listener.releasing(all);
    } finally {
      await this.leases.leave(this.settings.instance);
    }
  }
}
