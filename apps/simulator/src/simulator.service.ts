import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MachinesRepository } from '@continuum/persistence';
import { Plant, type PlantOptions } from './plant/plant';
import { SimulationRunner, type RunnerOptions } from './runner/simulation-runner';

export const SIMULATOR_OPTIONS = Symbol('SIMULATOR_OPTIONS');

/** What the simulator runs inside a process. */
export interface SimulatorOptions {
  enabled: boolean;
  plant: Partial<PlantOptions>;
  runner: Omit<RunnerOptions, 'onTick' | 'groundTruth'>;
}

/**
 * Runs a simulated plant inside a Continuum process (the embedded demo): registers its machines
 * (asset type, sensors with units and failure thresholds) through {@link MachinesRepository},
 * then publishes their telemetry to the process's broker until shutdown.
 */
@Injectable()
export class SimulatorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Simulator');
  private runner: SimulationRunner | undefined;

  constructor(
    @Inject(SIMULATOR_OPTIONS) private readonly options: SimulatorOptions,
    private readonly machines: MachinesRepository,
  ) {}

  get plant(): Plant | undefined {
    return this.runner?.plant;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.enabled || (this.options.plant.machines ?? 0) === 0) {
      this.logger.log('simulated plant off (SIMULATOR_ENABLED=false or SIMULATOR_MACHINES=0)');
      return;
    }
    const plant = new Plant(this.options.plant);
    for (const m of plant.machines)
      await this.machines.upsert({
        id: m.machineId,
        plantId: m.plantId,
        assetType: m.assetType,
        name: m.sparkplug?.device ?? m.machineId,
        sensors: m.sensors,
        metadata: { simulated: true, protocol: m.protocol, ...(m.sparkplug && { sparkplug: m.sparkplug }) },
      });
    this.runner = new SimulationRunner(plant, this.options.runner);
    await this.runner.start();
    this.logger.log(
      `simulating ${plant.slots.length} machines of ${plant.options.plantId} (x${this.options.runner.speed}, seed ${String(plant.options.seed)}) from ${new Date(plant.options.startMs).toISOString()}`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }
}
