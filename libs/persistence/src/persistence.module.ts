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
import {
  ApiKeysRepository,
  WorkOrdersRepository,
  DeadLettersRepository,
  MachineEventsRepository,
  MachinesRepository,
  ReadingsRepository,
  TwinStatesRepository,
} from './repositories';

export const DATABASE_CONFIG = Symbol('DATABASE_CONFIG');

const REPOSITORIES = [
  ReadingsRepository,
  MachinesRepository,
  DeadLettersRepository,
  TwinStatesRepository,
  MachineEventsRepository,
  ApiKeysRepository,
  WorkOrdersRepository,
];

/**
 * Provides an open {@link Database} (opened and migrated by the process before Nest starts, so
 * that a connection failure is a clear one-line error) with its repositories, applies the
 * readings policies, and runs TimescaleDB jobs in embedded mode. The process that opened the
 * database closes it, after every module has shut down, so that no write is lost.
 */
@Module({})
export class PersistenceModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Persistence');
  private jobsTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    @Inject(DATABASE_CONFIG) private readonly config: DatabaseConfig,
  ) {}

  static forRoot(db: Database, config: DatabaseConfig): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [TerminusModule],
      providers: [
        { provide: DATABASE_CONFIG, useValue: config },
        { provide: Database, useValue: db },
        { provide: DataSource, useFactory: (db: Database) => db.dataSource, inject: [Database] },
        ...REPOSITORIES.map((Repo) => ({
          provide: Repo,
          useFactory: (ds: DataSource) => new Repo(ds),
          inject: [DataSource],
        })),
        DatabaseHealthIndicator,
      ],
      exports: [Database, DataSource, DatabaseHealthIndicator, ...REPOSITORIES],
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

  onApplicationShutdown(): void {
    clearInterval(this.jobsTimer);
  }
}
