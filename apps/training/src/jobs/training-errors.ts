/** Refused training and registry requests: shared with the api through `@continuum/contracts`. */
export { TrainingRequestError, type TrainingErrorKind } from '@continuum/contracts';
