/**
 * `@continuum/neural`: the models of a digital twin on TensorFlow.js and `@continuum/ode` — neural
 * vector fields, augmented Neural ODEs, ODE-RNNs, Latent ODEs with an online filter form, Neural CDEs —
 * with a training loop and a versioned serialisation format. Pure TypeScript.
 */
export { Rng } from './random';
export { ParamStore, ParamScope, type Init } from './params';
export { activate, Dense, Mlp, type Activation, type MlpConfig } from './layers';
export { solveAt, solveIntervals, NfeCounter, type GradientMode, type SolverConfig, type BatchField } from './solve';
export { NeuralVectorField, type VectorFieldConfig } from './vector-field';
export { MaskedGru } from './gru';
export { OdeRnn, type OdeRnnConfig, type OdeRnnRun } from './ode-rnn';
export { packSeries, unionSeries, stepTensors, stepTimes, type Sequences, type Series } from './sequences';
export { gaussianNll, klStandardNormal, logNormal, logMeanExp } from './likelihood';
export { NeuralModel } from './model';
export { LatentOde, type LatentOdeConfig, type ElboParts, type Prediction } from './latent-ode';
export { OdeRnnModel, type OdeRnnModelConfig } from './ode-rnn-model';
export { OnlineFilter, type FilterState } from './filter';
export { naturalCubicSpline, hermiteBackwardCubic, evaluatePath, type CubicPath } from './spline';
export { NeuralCde, type NeuralCdeConfig } from './cde';
export { AugmentedNeuralOde, type AugmentedNodeConfig } from './augmented';
export {
  train,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  type BatchLoss,
  type LrSchedule,
} from './train';
export {
  saveModel,
  loadModel,
  registerModelKind,
  FORMAT_VERSION,
  type SaveOptions,
  type ModelManifest,
  type Normalisation,
  type TrainingDataInfo,
} from './serialize';
export {
  ModelBank,
  DEFAULT_SOLVER,
  type TwinSolverSettings,
  type BankStepInput,
  type BankStepOutput,
  type SlotState,
  type BankForecast,
} from './twin/model-bank';
export {
  summariseForecast,
  forecastSummary,
  quantile,
  type Thresholds,
  type MachineForecast,
} from './twin/forecast-math';
export {
  loadTwinModelFromRow,
  loadTwinModelFromDirectory,
  loadDefaultModels,
  disposeTwinModel,
  DEFAULT_TIME_SCALE_MS,
  FILTERABLE_KINDS,
  type TwinModel,
  type ModelRow,
} from './twin/twin-model';
export { readCmapss, type Engine } from './cmapss/data';
export { trainRul, RUL_TRAIN_SETTINGS, type RulTrainOptions, type RulPredictor } from './cmapss/pipeline';
