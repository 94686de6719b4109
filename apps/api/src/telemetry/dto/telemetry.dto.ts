import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export class TelemetryRangeQuery {
  @ApiProperty({ format: 'date-time', description: 'start of the range (inclusive)' })
  @Type(() => Date)
  @IsDate({ message: 'from must be an ISO-8601 date-time' })
  from!: Date;

  @ApiProperty({ format: 'date-time', description: 'end of the range (exclusive)' })
  @Type(() => Date)
  @IsDate({ message: 'to must be an ISO-8601 date-time' })
  to!: Date;

  @ApiPropertyOptional({ description: 'one sensor; all sensors when absent' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'sensor must be 1-64 of A-Z a-z 0-9 _ . - :' })
  sensor?: string;
}

export class RawTelemetryQuery extends TelemetryRangeQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100_000, default: 10_000, description: 'most readings read' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  limit: number = 10_000;

  @ApiPropertyOptional({
    minimum: 3,
    maximum: 10_000,
    description: 'downsample each sensor to this many points (LTTB)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(3)
  @Max(10_000)
  points?: number;
}

export const BUCKETS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '1d': 86_400 } as const;
export type BucketName = keyof typeof BUCKETS;

export class AggregateTelemetryQuery extends TelemetryRangeQuery {
  @ApiProperty({ enum: Object.keys(BUCKETS), default: '1m' })
  @IsIn(Object.keys(BUCKETS), { message: `bucket must be one of ${Object.keys(BUCKETS).join(', ')}` })
  bucket: BucketName = '1m';
}

export class SeriesDto {
  @ApiProperty() sensor!: string;
  @ApiProperty({ type: [Number], description: 'epoch milliseconds' }) t!: number[];
  @ApiProperty({ type: [Number] }) v!: number[];
}

export class RawTelemetryDto {
  @ApiProperty() machineId!: string;
  @ApiProperty({ description: 'readings read before downsampling' }) count!: number;
  @ApiProperty({ description: 'true when the limit cut the range short' }) truncated!: boolean;
  @ApiProperty({ type: [SeriesDto] }) series!: SeriesDto[];
}

export class BucketDto {
  @ApiProperty() sensor!: string;
  @ApiProperty({ format: 'date-time' }) bucket!: Date;
  @ApiProperty() avg!: number;
  @ApiProperty() min!: number;
  @ApiProperty() max!: number;
  @ApiProperty() count!: number;
}

export class AggregateTelemetryDto {
  @ApiProperty() machineId!: string;
  @ApiProperty({ enum: Object.keys(BUCKETS) }) bucket!: string;
  @ApiProperty({ type: [BucketDto] }) buckets!: BucketDto[];
}
