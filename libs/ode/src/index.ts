/**
 * `@continuum/ode`: adaptive explicit ODE solvers on two backends (Float64Array and TensorFlow.js),
 * with dense output, events and batched irregular intervals. Pure TypeScript.
 */
export { OdeError, type OdeErrorReason, type OdeErrorContext } from './errors';
export { ButcherTableau, validateTableau, type ButcherTableauSpec } from './tableau';
export { TABLEAUX, EULER, MIDPOINT, RK4, BOSH3, DOPRI5, TSIT5, type MethodName } from './tableaux';
export {
  PIController,
  ConstantStepSize,
  type StepSizeController,
  type ControllerState,
  type ControllerDecision,
  type PIControllerOptions,
} from './controller';
export { ExplicitRungeKutta, type OdeSolver, type StepResult, type DenseInterpolant, type Rhs } from './solver';
export type { SolverStats } from './stats';
export type { EventSpec, OdeEvent } from './events';
export type { ArrayOps, Tolerances } from './backend/array-ops';
export { Float64Ops } from './backend/float64-ops';
export { TensorOps } from './backend/tensor-ops';
export { initTensorBackend, tensorBackend, type TensorBackendOptions } from './backend/tf-backend';
export { tuneWasmKernels, wasmKernelsTuned } from './backend/wasm-kernels';
export { integrate, type IntegrateConfig, type IntegrateResult } from './integrate';
export { odeint, type OdeintOptions, type OdeSolution, type Float64Field, type TensorField } from './odeint';
export {
  odeintIntervals,
  odeintIntervalsFloat64,
  type BatchTimeField,
  type BatchTimeFieldFloat64,
  type IntervalsOptions,
  type IntervalsResult,
  type IntervalsResultFloat64,
} from './intervals';
export {
  odeintAdjoint,
  type OdeintAdjointOptions,
  type AdjointSolution,
  type AdjointStats,
} from './adjoint/odeint-adjoint';
export {
  BacksolveAdjoint,
  CheckpointAdjoint,
  type AdjointStrategy,
  type ForwardPass,
  type Checkpoint,
} from './adjoint/strategies';
export type { AdjointNorm } from './adjoint/augmented-ops';
export type { FieldVjp, FieldVjpFn, FieldVjpResult, PreparedFieldVjp, TensorFieldWithVjp } from './adjoint/field-vjp';
export * from './stiff';
