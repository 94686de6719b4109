import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { FORECAST_LIMITS } from '../twin-forecaster';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90m`, `6h`, `2d`, `30s`, `500ms` or bare milliseconds as ms; NaN for anything else. */
export function parseDuration(v: unknown): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(String(v));
  return m ? Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']) : NaN;
}

const HORIZON_MESSAGE = `horizon must be a duration (90m, 6h, 2d, or milliseconds) from 1m to ${FORECAST_LIMITS.maxHorizonMs / 86_400_000}d`;

export class RulDto {
  @ApiProperty({ description: 'remaining useful life, 10th percentile (ms)' }) p10!: number;
  @ApiProperty({ description: 'median (ms)' }) p50!: number;
  @ApiProperty({ description: '90th percentile (ms)' }) p90!: number;
}

/** What the machines endpoints add about a machine's twin. */
export class TwinSummaryDto {
  @ApiProperty({ description: 'time of the last twin update (epoch ms)' }) lastUpdate!: number;
  @ApiProperty() anomalyScore!: number;
  @ApiProperty() modelVersion!: string;
  @ApiPropertyOptional({ type: RulDto, nullable: true, description: 'from the latest forecast; null if unknown' })
  rulMs!: RulDto | null;
}

export class SensorPredictionDto {
  @ApiProperty() mean!: number;
  @ApiProperty() std!: number;
  @ApiPropertyOptional() value?: number;
  @ApiPropertyOptional() z?: number;
}

export class TwinCheckpointDto {
  @ApiProperty({ format: 'date-time' }) time!: Date;
  @ApiProperty() updates!: number;
  @ApiPropertyOptional({ nullable: true, type: String }) modelId!: string | null;
  @ApiProperty({ format: 'date-time' }) updatedAt!: Date;
}

export class TwinStateDto {
  @ApiProperty() machineId!: string;
  @ApiProperty() plantId!: string;
  @ApiPropertyOptional({ type: TwinSummaryDto, nullable: true }) summary!: TwinSummaryDto | null;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/SensorPredictionDto' },
    nullable: true,
    description: 'the latest prediction per sensor (mean, std) beside the reading',
  })
  prediction!: Record<string, SensorPredictionDto> | null;
  @ApiPropertyOptional({ type: TwinCheckpointDto, nullable: true, description: 'the stored checkpoint' })
  checkpoint!: TwinCheckpointDto | null;
}

export class ForecastQuery {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 168,
    default: 6,
    description: 'hours of the twin prediction band to return',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(168)
  hours: number = 6;

  @ApiPropertyOptional({
    type: String,
    example: '12h',
    description: `forecast horizon: 90m, 6h, 2d or milliseconds, 1m to ${FORECAST_LIMITS.maxHorizonMs / 86_400_000}d (default TWIN_FORECAST_HORIZON_MS). With horizon, samples, points or seed the forecast is computed on request from the latest checkpoint; without them the twin's last published forecast is served.`,
  })
  @IsOptional()
  @Transform(({ value }) => (value === undefined || value === null ? value : parseDuration(value)))
  @IsInt({ message: HORIZON_MESSAGE })
  @Min(FORECAST_LIMITS.minHorizonMs, { message: HORIZON_MESSAGE })
  @Max(FORECAST_LIMITS.maxHorizonMs, { message: HORIZON_MESSAGE })
  horizon?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: FORECAST_LIMITS.maxSamples,
    description: 'latent samples (default TWIN_FORECAST_SAMPLES)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(FORECAST_LIMITS.maxSamples)
  samples?: number;

  @ApiPropertyOptional({
    minimum: FORECAST_LIMITS.minPoints,
    maximum: FORECAST_LIMITS.maxPoints,
    description: 'forecast points, evenly spaced over the horizon (default TWIN_FORECAST_POINTS)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(FORECAST_LIMITS.minPoints)
  @Max(FORECAST_LIMITS.maxPoints)
  points?: number;

  @ApiPropertyOptional({ minimum: 0, description: 'seed of the latent and observation draws (default: random)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(2 ** 31 - 1)
  seed?: number;
}

export class BandDto {
  @ApiProperty({ type: [Number], description: 'epoch ms' }) t!: number[];
  @ApiProperty({ type: [Number] }) p10!: number[];
  @ApiProperty({ type: [Number] }) p50!: number[];
  @ApiProperty({ type: [Number] }) p90!: number[];
  @ApiProperty({ type: [Number], description: 'the reading beside each prediction (null where none)' })
  value!: (number | null)[];
}

export class RulQuantileDto {
  @ApiProperty() q!: number;
  @ApiProperty({ description: 'ms from the forecast time (equal to horizonMs: not within the horizon)' }) ms!: number;
}

export class ForecastBandDto {
  @ApiProperty({ type: [Number], description: 'epoch ms of each forecast point' }) t!: number[];
  @ApiProperty({ type: [Number] }) p10!: number[];
  @ApiProperty({ type: [Number] }) p50!: number[];
  @ApiProperty({ type: [Number] }) p90!: number[];
}

export class ForecastDto {
  @ApiProperty() machineId!: string;
  @ApiProperty({
    enum: ['published', 'computed'],
    description: "published: the twin's last periodic forecast (summary only); computed: on this request",
  })
  source!: 'published' | 'computed';
  @ApiProperty() modelVersion!: string;
  @ApiProperty({ description: 'twin time the forecast starts from (epoch ms)' }) fromMs!: number;
  @ApiProperty() horizonMs!: number;
  @ApiProperty() samples!: number;
  @ApiPropertyOptional({ type: RulDto, nullable: true, description: 'null: no threshold crossing in the horizon' })
  rulMs!: RulDto | null;
  @ApiProperty({
    type: [RulQuantileDto],
    description:
      'the RUL distribution as quantiles (empty when rulMs is null): q 0.1/0.5/0.9 when published; 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95 when computed',
  })
  rulDistribution!: RulQuantileDto[];
  @ApiPropertyOptional({
    nullable: true,
    type: Number,
    description: 'computed: the fraction of samples crossing a failure threshold within the horizon',
  })
  rulCrossedFraction!: number | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/ForecastBandDto' },
    description:
      'computed: per sensor, p10/p50/p90 of the predictive draws at each forecast point (empty when published)',
  })
  forecastBands!: Record<string, ForecastBandDto>;
  @ApiPropertyOptional({ nullable: true, type: Number, description: 'computed: the seed, to repeat the forecast' })
  seed!: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number, description: 'computed: function evaluations of the solve' })
  nfe!: number | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } })
  crossingProbability!: Record<string, number>;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/BandDto' },
    description: "per sensor: the twin's p10/p50/p90 prediction band over the last `hours` beside the readings",
  })
  bands!: Record<string, BandDto>;
}
