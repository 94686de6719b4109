export { Database, dataSourceOptions, type DatabaseCapabilities } from './database';
export { PersistenceModule } from './persistence.module';
export { DatabaseHealthIndicator } from './database.health';
export { applyReadingsPolicies, EmbeddedJobScheduler } from './readings-policies';
export * from './entities';
export * from './repositories';
export {
  createTestDatabase,
  openTestDatabase,
  testDatabaseModes,
  type OpenTestDatabase,
  type TestDatabase,
} from './testing/test-database';
export { queryPlanNodes, type PlanNode } from './testing/query-plan';
export { toAlertMessage } from './alert-message';
