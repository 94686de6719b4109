export * from './topics';
export * from './telemetry.schema';
export * from './messages.schema';
export * from './ingestion.schema';
export * from './training.schema';
export * from './residual-reference';
