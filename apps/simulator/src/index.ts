export { SimulatorModule } from './simulator.module';
export { SimulatorService, type SimulatorOptions } from './simulator.service';
export { Plant, type PlantOptions, type OutgoingMessage, type SimulatedMachineInfo } from './plant/plant';
export { SimulationRunner, type RunnerOptions } from './runner/simulation-runner';
export { StoreAndForwardPublisher, type DeliveryStats, type StoreAndForwardOptions } from './runner/store-and-forward';
export { parseFaultPlan } from './plant/faults';
