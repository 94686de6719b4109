import { Injectable } from '@nestjs/common';
import {
  Database,
  DeadLettersRepository,
  MachineEventsRepository,
  MachinesRepository,
  ReadingsRepository,
  type DeadLetter,
  type MachineEvent,
  type Reading,
} from '@continuum/persistence';
import type { SeenMachine } from '../decoding/decoded-message';

/** Everything one batch stores, in one transaction. */
export interface BatchWrite {
  readings: Reading[];
  /** Machines to register, or whose sensor lists grow (and whose stale flag clears). */
  machines: SeenMachine[];
  deadLetters: DeadLetter[];
  events: MachineEvent[];
  /** Machines whose data went stale (after the machines above were seen). */
  stale: { machineId: string; since: number }[];
}

/** The ingestion's I/O: one transaction per batch, and the registration lookup. */
@Injectable()
export class IngestionRepository {
  constructor(
    private readonly db: Database,
    private readonly readings: ReadingsRepository,
    private readonly machines: MachinesRepository,
    private readonly deadLetters: DeadLettersRepository,
    private readonly events: MachineEventsRepository,
  ) {}

  /** Writes a batch atomically; returns the number of readings actually inserted (the rest were duplicates). */
  async write(batch: BatchWrite): Promise<number> {
    return this.db.dataSource.transaction(async (manager) => {
      if (batch.machines.length > 0)
        await this.machines.ensureSeen(
          batch.machines.map((m) => ({ id: m.id, plantId: m.plantId, assetType: 'unknown', sensors: m.sensors })),
          manager,
        );
      const inserted = await this.readings.insertMany(batch.readings, manager);
      await this.deadLetters.insertMany(batch.deadLetters, manager);
      await this.events.insertMany(batch.events, manager);
      for (const s of batch.stale) await this.machines.markStale(s.machineId, new Date(s.since), manager);
      return inserted;
    });
  }

  /** Which of these machines are registered. */
  registered(ids: readonly string[]): Promise<Set<string>> {
    return this.machines.existing(ids);
  }
}
