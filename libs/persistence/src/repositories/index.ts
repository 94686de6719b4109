export * from './readings.repository';
export * from './machines.repository';
export * from './dead-letters.repository';
export * from './twin-states.repository';
export * from './machine-events.repository';
export * from './api-keys.repository';
export * from './twin-predictions.repository';
export * from './twin-leases.repository';
