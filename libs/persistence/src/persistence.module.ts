import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { DatabaseConfig } from '@continuum/config';
import { TerminusModule } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { Database } from './database';
import { DatabaseHealthIndicator } from './database.health';
import { applyReadingsPolicies, EmbeddedJobScheduler } from './readings-policies';
import { DeadLettersRepository, MachinesRepository, ReadingsRepository, TwinStatesRepository } from './repositories';

export const DATABASE_CONFIG = Symbol('DATABASE_CONFIG');

/**
 * Owns the process's database: opens it (embedded PGlite+TimescaleDB or external PostgreSQL),
 * migrates, applies the readings policies, runs TimescaleDB jobs in embedded mode, and closes it
 * last on shutdown so that no write is lost.
 */
@Module({})
export class PersistenceModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Persistence');
  private jobsTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    @Inject(DATABASE_CONFIG) private readonly config: DatabaseConfig,
  ) {}

  static forRoot(config: DatabaseConfig): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [TerminusModule],
      providers: [
        { provide: DATABASE_CONFIG, useValue: config },
        { provide: Database, useFactory: () => Database.open(config) },
        { provide: DataSource, useFactory: (db: Database) => db.dataSource, inject: [Database] },
        {
          provide: ReadingsRepository,
          useFactory: (ds: DataSource) => new ReadingsRepository(ds),
          inject: [DataSource],
        },
        {
          provide: MachinesRepository,
          useFactory: (ds: DataSource) => new MachinesRepository(ds),
          inject: [DataSource],
        },
        {
          provide: DeadLettersRepository,
          useFactory: (ds: DataSource) => new DeadLettersRepository(ds),
          inject: [DataSource],
        },
        {
          provide: TwinStatesRepository,
          useFactory: (ds: DataSource) => new TwinStatesRepository(ds),
          inject: [DataSource],
        },
      ],
      exports: [
        Database,
        DataSource,
        ReadingsRepository,
        MachinesRepository,
        DeadLettersRepository,
        TwinStatesRepository,
      ],
    };
  }

  async onModuleInit(): Promise<void> {
    const { mode, timescaledb, serverVersion } = this.db.capabilities;
    this.logger.log(
      `database ${mode} (PostgreSQL ${serverVersion}, ${timescaledb ? `TimescaleDB ${timescaledb}` : 'no TimescaleDB: plain tables'})`,
    );
    if (await applyReadingsPolicies(this.db, this.config.readings)) {
      const { compressAfterDays, retentionDays } = this.config.readings;
      this.logger.log(
        `readings: compress after ${compressAfterDays} d, ${retentionDays ? `drop after ${retentionDays} d` : 'kept forever'}`,
      );
    }
    if (mode === 'embedded' && timescaledb) {
      const scheduler = new EmbeddedJobScheduler(this.db);
      this.jobsTimer = setInterval(() => {
        scheduler.runDue().catch((err: Error) => this.logger.warn(`TimescaleDB jobs failed: ${err.message}`));
      }, this.config.embeddedJobsIntervalMs);
      this.jobsTimer.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.jobsTimer);
    await this.db.close();
    this.logger.log('database closed');
  }
}
