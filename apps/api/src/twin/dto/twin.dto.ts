import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

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
  @ApiProperty({ description: 'ms from the forecast time' }) ms!: number;
}

export class ForecastDto {
  @ApiProperty() machineId!: string;
  @ApiProperty() modelVersion!: string;
  @ApiProperty({ description: 'twin time the forecast starts from (epoch ms)' }) fromMs!: number;
  @ApiProperty() horizonMs!: number;
  @ApiProperty() samples!: number;
  @ApiPropertyOptional({ type: RulDto, nullable: true, description: 'null: no threshold crossing in the horizon' })
  rulMs!: RulDto | null;
  @ApiProperty({ type: [RulQuantileDto], description: 'the RUL distribution as quantiles (empty when rulMs is null)' })
  rulDistribution!: RulQuantileDto[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } })
  crossingProbability!: Record<string, number>;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/BandDto' },
    description: "per sensor: the twin's p10/p50/p90 prediction band over the last `hours` beside the readings",
  })
  bands!: Record<string, BandDto>;
}
