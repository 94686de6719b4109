import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import {
  DEFAULT_HYPERPARAMETERS,
  EXPLICIT_METHODS,
  GRADIENT_METHODS,
  HYPERPARAMETER_RANGES,
  IMPLICIT_METHODS,
  MODEL_KINDS,
} from '@continuum/contracts';
import { PageQuery } from '../../common/pagination.dto';

export const TRAINING_JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

export class ListTrainingJobsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: TRAINING_JOB_STATUSES })
  @IsOptional()
  @IsIn(TRAINING_JOB_STATUSES)
  status?: (typeof TRAINING_JOB_STATUSES)[number];

  @ApiPropertyOptional({ example: 'electric-motor' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,128}$/, { message: 'assetType must be 1-128 of A-Z a-z 0-9 _ . - :' })
  assetType?: string;
}

const range = (k: keyof typeof HYPERPARAMETER_RANGES) => ({
  type: (HYPERPARAMETER_RANGES[k].int ? 'integer' : 'number') as 'integer' | 'number',
  minimum: HYPERPARAMETER_RANGES[k].min,
  maximum: HYPERPARAMETER_RANGES[k].max,
  default: DEFAULT_HYPERPARAMETERS[k],
});

/** Documentation of the hyperparameters (validated by `parseJobRequest` of @continuum/contracts). */
export class HyperparametersDto {
  @ApiPropertyOptional(range('epochs')) epochs?: number;
  @ApiPropertyOptional({ ...range('lr'), description: 'Adam learning rate' }) lr?: number;
  @ApiPropertyOptional(range('batchSize')) batchSize?: number;
  @ApiPropertyOptional(range('batchesPerEpoch')) batchesPerEpoch?: number;
  @ApiPropertyOptional({ ...range('window'), description: 'readings per training window' }) window?: number;
  @ApiPropertyOptional({ ...range('hidden'), description: 'hidden (ODE-RNN) or latent (Latent ODE) width' })
  hidden?: number;
  @ApiPropertyOptional({
    type: [Number],
    minItems: 1,
    maxItems: 4,
    default: DEFAULT_HYPERPARAMETERS.odeHidden,
    description: 'hidden widths of the ODE vector field (integers 1-512)',
  })
  odeHidden?: number[];
  @ApiPropertyOptional({ ...range('augment'), description: 'augmented dimensions (ANODE)' }) augment?: number;
  @ApiPropertyOptional(range('patience')) patience?: number;
  @ApiPropertyOptional(range('validationFraction')) validationFraction?: number;
  @ApiPropertyOptional({ ...range('timeScaleMs'), description: 'model time unit, ms' }) timeScaleMs?: number;
  @ApiPropertyOptional(range('rtol')) rtol?: number;
  @ApiPropertyOptional(range('atol')) atol?: number;
  @ApiPropertyOptional(range('clipNorm')) clipNorm?: number;
  @ApiPropertyOptional(range('seed')) seed?: number;
}

/**
 * A job request. Documentation only: the body is validated by `parseJobRequest` (zod,
 * `@continuum/contracts`), the same schema `npm run train` uses.
 */
export class CreateTrainingJobDto {
  @ApiProperty({ example: 'electric-motor', pattern: '^[A-Za-z0-9_.:-]{1,128}$' }) assetType!: string;
  @ApiPropertyOptional({ type: [String], description: 'train on these machines of the asset type only' })
  machineIds?: string[];
  @ApiPropertyOptional({ format: 'date-time', description: 'ISO 8601 or epoch ms; default: 7 days before `to`' })
  from?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'ISO 8601 or epoch ms; default: now' })
  to?: string;
  @ApiPropertyOptional({ enum: MODEL_KINDS, default: 'ode-rnn' }) modelKind?: string;
  @ApiPropertyOptional({
    enum: [...EXPLICIT_METHODS, ...IMPLICIT_METHODS],
    default: 'dopri5',
    description: 'implicit methods (kvaerno*, radau5, rodas4, auto) need gradient adjoint (422 with backprop)',
  })
  solver?: string;
  @ApiPropertyOptional({ enum: GRADIENT_METHODS, default: 'adjoint' }) gradient?: string;
  @ApiPropertyOptional({ type: HyperparametersDto }) hyperparameters?: HyperparametersDto;
}

export class TrainingJobDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() assetType!: string;
  @ApiPropertyOptional({ type: [String], nullable: true }) machineIds!: string[] | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) rangeFrom!: Date | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) rangeTo!: Date | null;
  @ApiProperty({ enum: MODEL_KINDS }) modelKind!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'with defaults filled in' })
  hyperparameters!: Record<string, unknown>;
  @ApiProperty() solver!: string;
  @ApiProperty({ enum: GRADIENT_METHODS }) gradient!: string;
  @ApiProperty({ enum: TRAINING_JOB_STATUSES }) status!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'written by the training service every epoch: stage, epoch, epochs, loss, parts, validation, nfeForward, nfeBackward, elapsedSeconds, etaSeconds, resumes',
  })
  progress!: Record<string, unknown>;
  @ApiProperty({ minimum: 0, maximum: 1, description: 'completed epochs / epochs (1 once succeeded)' })
  fraction!: number;
  @ApiPropertyOptional({ nullable: true, type: String }) error!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'the model version it produced' })
  modelId!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: Date;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) startedAt!: Date | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) finishedAt!: Date | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) heartbeatAt!: Date | null;
}

export class TrainingJobPageDto {
  @ApiProperty({ type: [TrainingJobDto] }) items!: TrainingJobDto[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}
