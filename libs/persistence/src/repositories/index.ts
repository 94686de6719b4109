export * from './readings.repository';
export * from './machines.repository';
export * from './dead-letters.repository';
export * from './twin-states.repository';
export * from './machine-events.repository';
export * from './api-keys.repository';
