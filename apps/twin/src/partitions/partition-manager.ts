import type { TwinLeasesRepository } from '@continuum/persistence';
import { within } from '../service/deadline';

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
  /** Longest a listener call (checkpoint restore or hand-over) may take before the round gives up on it. */
  handoverTimeoutMs: number;
}

/**
 * Holds this instance's share of the partitions through lease rows (TwinLeasesRepository): every
 * `renewMs` it announces itself, renews its leases, gives up what it holds beyond its fair share
 * (ceil(partitions / live instances)) after checkpointing it, and claims free or expired partitions up
 * to its share. A stopped instance deletes its leases (others take over at their next tick); a crashed
 * one's leases expire after `ttlMs`. A single instance holds every partition.
 *
 * Rounds never overlap, so a round that never finished would stop every later one (and the heartbeat)
 * for good: every await of a round is bounded — lease queries by `ttlMs` (a renewal later than that
 * is worthless: the lease has expired), listener calls by `handoverTimeoutMs` — and a round waits on
 * nothing else (not on the service's batches). Leases not renewed for `ttlMs` (the database
 * unreachable, or rounds failing) are dropped here too, since another instance may hold them by then,
 * and a watchdog logs an error every `ttlMs` while no round completes. `lastRoundAt` is what the
 * twin's /health reads.
 */
export class PartitionManager {
  private readonly owned = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private startedAt = Date.now();
  /** When the leases held were last renewed (the renewal's start: conservative). */
  private renewedAt = 0;
  private lastAlarmAt = 0;
  /** When the last round completed without error (undefined before the first). */
  lastRoundAt: number | undefined;

  constructor(
    private readonly leases: TwinLeasesRepository,
    private readonly settings: PartitionSettings,
    private readonly listener: PartitionListener,
    private readonly onError: (err: Error) => void,
    private readonly alarm: (message: string) => void = () => undefined,
  ) {}

  /** Whether this instance holds the partition now. */
  owns(partition: number): boolean {
    return this.owned.has(partition);
  }

  get ownedPartitions(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  /** Milliseconds since the last completed round (or since start, before the first one). */
  roundAgeMs(now = Date.now()): number {
    return now - (this.lastRoundAt ?? this.startedAt);
  }

  /** First tick (claims its share), then one every `renewMs`, and the watchdog. */
  async start(): Promise<void> {
    this.startedAt = Date.now();
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.settings.renewMs);
    this.timer.unref();
    this.watchdog = setInterval(() => this.watch(), this.settings.renewMs);
    this.watchdog.unref();
  }

  /** One round of heartbeat, renew, rebalance and claim; never overlaps itself. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.ticking ??= this.run().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  /** Logs loudly (once per TTL) while no round has completed for a TTL. */
  private watch(): void {
    const now = Date.now();
    const age = this.roundAgeMs(now);
    if (this.stopped || age <= this.settings.ttlMs || now - this.lastAlarmAt < this.settings.ttlMs) return;
    this.lastAlarmAt = now;
    this.alarm(
      `no lease round completed for ${(age / 1000).toFixed(1)} s (TTL ${this.settings.ttlMs / 1000} s; ` +
        `${this.ticking ? 'a round is in progress' : 'rounds are failing'}); holds ${this.owned.size} partitions`,
    );
  }

  private query<T>(promise: Promise<T>, what: string): Promise<T> {
    return within(promise, this.settings.ttlMs, `lease ${what}`);
  }

  private handover(promise: Promise<void>, what: string): Promise<void> {
    return within(promise, this.settings.handoverTimeoutMs, what);
  }

  /** Leases not renewed for a TTL may be someone else's by now: stop processing them. */
  private async expireStale(): Promise<void> {
    if (this.owned.size === 0 || Date.now() - this.renewedAt <= this.settings.ttlMs) return;
    const all = this.ownedPartitions;
    this.owned.clear();
    this.alarm(`leases of ${all.length} partitions not renewed for over ${this.settings.ttlMs} ms: dropped`);
    await this.handover(this.listener.releasing(all), 'releasing expired partitions');
  }

  private async run(): Promise<void> {
    const { instance, partitions, ttlMs } = this.settings;
    try {
      await this.expireStale();
      const live = Math.max(1, await this.query(this.leases.heartbeat(instance, ttlMs), 'heartbeat'));
      const renewing = Date.now();
      const held = new Set(await this.query(this.leases.renew(instance, [...this.owned], ttlMs), 'renewal'));
      this.renewedAt = renewing;
      const lost = [...this.owned].filter((p) => !held.has(p));
      if (lost.length > 0) {
        lost.forEach((p) => this.owned.delete(p));
        await this.handover(this.listener.releasing(lost), 'releasing lost partitions');
      }
      const share = Math.ceil(partitions / live);
      if (this.owned.size > share) {
        const give = this.ownedPartitions.slice(share);
        give.forEach((p) => this.owned.delete(p));
        try {
          await this.handover(this.listener.releasing(give), 'releasing partitions');
        } finally {
          await this.query(this.leases.release(instance, give), 'release');
        }
      } else if (this.owned.size < share) {
        const claiming = Date.now();
        const got = await this.query(this.leases.claim(instance, partitions, share - this.owned.size, ttlMs), 'claim');
        if (got.length > 0) {
          // Restore the partitions' checkpoints before owning them, so that no reading is applied
          // to a fresh twin in between; give the leases back if that fails.
          try {
            await this.handover(this.listener.acquired(got), 'restoring partitions');
          } catch (err) {
            await this.query(this.leases.release(instance, got), 'release');
            throw err;
          }
          got.forEach((p) => this.owned.add(p));
          if (this.owned.size === got.length) this.renewedAt = claiming;
        }
      }
      this.lastRoundAt = Date.now();
    } catch (err) {
      this.onError(err as Error);
      await this.expireStale().catch((e: Error) => this.onError(e));
    }
  }

  /** Stops ticking, checkpoints and releases every partition, and leaves. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.watchdog) clearInterval(this.watchdog);
    await this.ticking;
    this.stopped = true;
    const all = this.ownedPartitions;
    this.owned.clear();
    try {
      if (all.length > 0) await this.handover(this.listener.releasing(all), 'releasing partitions');
    } finally {
      await this.query(this.leases.leave(this.settings.instance), 'leave');
    }
  }
}
