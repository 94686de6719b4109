import { AirCompressorModel } from './air-compressor.model';
import { CentrifugalPumpModel } from './centrifugal-pump.model';
import { ElectricMotorModel, type MotorFidelity } from './electric-motor.model';
import type { MachineModel } from './model';

export * from './model';
export * from './wear';
export { CentrifugalPumpModel, type PumpParams } from './centrifugal-pump.model';
export { ElectricMotorModel, type MotorParams, type MotorFidelity } from './electric-motor.model';
export { AirCompressorModel, type CompressorParams } from './air-compressor.model';

/** The asset types of the simulated plant, in the order machines are assigned to them. */
export function plantModels(motorFidelity: MotorFidelity = 'reduced'): MachineModel[] {
  return [new CentrifugalPumpModel(), new ElectricMotorModel(motorFidelity), new AirCompressorModel()];
}
