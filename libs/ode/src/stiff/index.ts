/** Stiff solvers of `@continuum/ode` (issue 5): implicit methods, their parts, and 'auto'. */
export { Radau5 } from './radau5';
export { EsdirkStepper, EsdirkTableau, KVAERNO3, KVAERNO5, validateEsdirk, type EsdirkTableauSpec } from './esdirk';
export {
  RosenbrockStepper,
  RosenbrockTableau,
  RODAS4,
  validateRosenbrock,
  type RosenbrockTableauSpec,
} from './rosenbrock';
export { NewtonSolver, type NewtonOptions, type NewtonResult } from './newton';
export {
  PredictiveController,
  type PredictiveControllerOptions,
  type PredictiveState,
  type StepInfo,
} from './controller';
export { Dopri5Detector, type StiffnessTestOptions } from './auto';
export {
  integrateStiff,
  type StiffIntegrateConfig,
  type StiffIntegrateResult,
  type SwitchingPolicy,
} from './integrate-stiff';
export { StiffSystem, type StiffStats, type FlatField, type FlatJacobian, type TrailingChannels } from './system';
export type { StiffStepper, StepAttempt, StepFailure } from './stepper';
export {
  STIFF_METHODS,
  isStiffMethod,
  makeStepper,
  type StiffMethodName,
  type ImplicitMethodName,
  type ImplicitOptions,
  type Float64Jacobian,
  type TensorJacobian,
} from './odeint-stiff';
export {
  ROBERTSON,
  VAN_DER_POL,
  HIRES,
  HIRES_REFERENCE,
  STIFF_PROBLEMS,
  stiffLinear,
  type StiffProblem,
} from './problems';
