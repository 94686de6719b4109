import { Module, type DynamicModule } from '@nestjs/common';
import type { Infrastructure } from '@continuum/runtime';
import { SIMULATOR_OPTIONS, SimulatorService, type SimulatorOptions } from './simulator.service';

/** How far back the embedded plant starts, so that `npm start` shows a day of history at once. */
export const EMBEDDED_BACKFILL_MS = 24 * 3600 * 1000;

/**
 * apps/simulator as a module: a small plant (SIMULATOR_* variables) publishing to the process's
 * broker, starting a day in the past and accelerated until it has caught up with the clock.
 */
@Module({})
export class SimulatorModule {
  static register(infra: Infrastructure): DynamicModule {
    const c = infra.config.simulator;
    const options: SimulatorOptions = {
      enabled: c.enabled,
      plant: { machines: c.machines, seed: c.seed, protocol: 'mixed', startMs: Date.now() - EMBEDDED_BACKFILL_MS },
      runner: {
        url: infra.messaging.url,
        username: infra.messaging.username,
        password: infra.messaging.password,
        clientIdPrefix: infra.messaging.clientIdPrefix ?? 'continuum',
        qos: 1,
        speed: c.speed,
        tickMs: 200,
        catchUp: true,
      },
    };
    return {
      module: SimulatorModule,
      imports: [infra.modules.persistence],
      providers: [{ provide: SIMULATOR_OPTIONS, useValue: options }, SimulatorService],
      exports: [SimulatorService],
    };
  }
}
