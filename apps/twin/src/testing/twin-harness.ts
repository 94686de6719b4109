import { Registry } from 'prom-client';
import { loadConfig, type TwinConfig } from '@continuum/config';
import type { Database } from '@continuum/persistence';
import type { TwinModel } from '@continuum/neural';
import type { TwinUpdate } from '../engine/twin-processor';
import { TwinMetrics } from '../metrics/twin.metrics';
import { TwinPublisher } from '../service/twin-publisher';
import { TwinService } from '../service/twin.service';
import { TwinRepository } from '../storage/twin.repository';
import { waitFor } from '@continuum/runtime';

export { waitFor };

/** Collects published updates, and sends them on through `next` if given (else nowhere; its backlog is `next`'s). */
export class CollectingPublisher extends TwinPublisher {
  readonly updates: TwinUpdate[] = [];
  constructor(private readonly next?: TwinPublisher) {
    super();
  }
  async publish(updates: readonly TwinUpdate[]): Promise<void> {
    this.updates.push(...updates);
    if (this.next) await this.next.publish(updates);
  }
  override get backlog(): number {
    return this.next?.backlog ?? 0;
  }
  override get window(): number {
    return this.next?.window ?? Infinity;
  }
  override whenBacklogAtMost(atMost: number): Promise<void> {
    return this.next?.whenBacklogAtMost(atMost) ?? Promise.resolve();
  }
}

/** A TwinService on an open database without Nest or a broker (the service's own lifecycle hooks run). */
export interface TwinHarness {
  service: TwinService;
  publisher: CollectingPublisher;
  metrics: Registry;
  stop(): Promise<void>;
}

export async function startTwin(
  db: Database,
  options: { config?: Partial<TwinConfig>; models?: TwinModel[]; publisher?: TwinPublisher } = {},
): Promise<TwinHarness> {
  const base = loadConfig({}).twin;
  const config: TwinConfig = {
    ...base,
    modelPollMs: 60_000,
    checkpointIntervalMs: 60_000,
    // Test models count time in seconds: a short horizon keeps forecasts cheap.
    forecast: { ...base.forecast, horizonMs: 10_000, points: 5, samples: 8 },
    ...options.config,
  };
  const registry = new Registry();
  const publisher = new CollectingPublisher(options.publisher);
  const service = new TwinService(new TwinRepository(db), publisher, config, new TwinMetrics(registry));
  for (const m of options.models ?? []) service.registry.use(m);
  await service.onModuleInit();
  return { service, publisher, metrics: registry, stop: () => service.onApplicationShutdown() };
}
