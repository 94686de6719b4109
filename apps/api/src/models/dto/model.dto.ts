import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, Matches } from 'class-validator';
import { PageQuery } from '../../common/pagination.dto';

export const MODEL_STATUSES = ['candidate', 'active', 'retired'] as const;

export class ListModelsQuery extends PageQuery {
  @ApiPropertyOptional({ example: 'electric-motor' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,128}$/, { message: 'assetType must be 1-128 of A-Z a-z 0-9 _ . - :' })
  assetType?: string;

  @ApiPropertyOptional({ enum: MODEL_STATUSES })
  @IsOptional()
  @IsIn(MODEL_STATUSES)
  status?: (typeof MODEL_STATUSES)[number];
}

export class ActivateModelDto {
  @ApiPropertyOptional({
    default: false,
    description: "activate even when its validation loss is worse than the active version's",
  })
  @IsOptional()
  @IsBoolean()
  force?: boolean;
}

/** A model version without its weights. */
export class ModelDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() assetType!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ description: 'ode-rnn (the twin can run it), latent-ode, ...' }) kind!: string;
  @ApiProperty({ enum: MODEL_STATUSES }) status!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) config!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'features, offset, scale, timeScaleMs' })
  normalisation!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'valLoss (compared on activation), ...' })
  metrics!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true }) trainingData!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true }) solver!: Record<string, unknown>;
  @ApiPropertyOptional({ nullable: true, type: String }) trainingJobId!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: Date;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) activatedAt!: Date | null;
}

export class ModelPageDto {
  @ApiProperty({ type: [ModelDto] }) items!: ModelDto[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

export class ActivationDto {
  @ApiProperty({ type: ModelDto, description: 'the version now active' }) model!: ModelDto;
  @ApiPropertyOptional({ type: ModelDto, nullable: true, description: 'the version it replaced (now retired)' })
  previous!: ModelDto | null;
}

export class MetricPairDto {
  @ApiPropertyOptional() a?: unknown;
  @ApiPropertyOptional() b?: unknown;
}

export class ModelComparisonDto {
  @ApiProperty({ type: ModelDto }) a!: ModelDto;
  @ApiProperty({ type: ModelDto }) b!: ModelDto;
  @ApiProperty({ example: 'valLoss' }) metric!: string;
  @ApiPropertyOptional({ nullable: true, type: Number, description: "b's metric minus a's (negative: b is better)" })
  delta!: number | null;
  @ApiProperty({ enum: ['a', 'b', 'equal', 'unknown'] }) better!: string;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/MetricPairDto' } })
  metrics!: Record<string, MetricPairDto>;
}
