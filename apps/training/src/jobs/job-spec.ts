/**
 * The job request schema lives in `@continuum/contracts` (training.schema.ts), shared with the api;
 * re-exported here for the training app's own modules.
 */
export {
  DEFAULT_HYPERPARAMETERS,
  EXPLICIT_METHODS,
  IMPLICIT_METHODS,
  MODEL_KINDS,
  parseHyperparameters,
  parseJobRequest,
  type Hyperparameters,
  type ModelKind,
  type TrainingJobRequest,
  type TrainingJobSpec,
} from '@continuum/contracts';
