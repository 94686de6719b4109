import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDate,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { PageQuery } from '../../common/pagination.dto';

export const WORK_ORDER_STATUSES = ['draft', 'open', 'scheduled', 'in-progress', 'done', 'cancelled'] as const;
export const WORK_ORDER_PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;

export class CreateWorkOrderDto {
  @ApiProperty({ example: 'pump-07' })
  @Matches(/^[A-Za-z0-9_.:-]{1,128}$/, { message: 'machineId must be 1-128 of A-Z a-z 0-9 _ . - :' })
  machineId!: string;

  @ApiProperty({ example: 'Replace bearing' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  title!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  description?: string;

  @ApiPropertyOptional({ enum: WORK_ORDER_PRIORITIES, default: 'medium' })
  @IsOptional()
  @IsIn(WORK_ORDER_PRIORITIES)
  priority?: (typeof WORK_ORDER_PRIORITIES)[number];

  @ApiPropertyOptional({ enum: WORK_ORDER_STATUSES, default: 'open' })
  @IsOptional()
  @IsIn(WORK_ORDER_STATUSES)
  status?: (typeof WORK_ORDER_STATUSES)[number];

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  dueBy?: Date;

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  windowStart?: Date;

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  windowEnd?: Date;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  crew?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 10_080, default: 60 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_080)
  estimatedMinutes?: number;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true })
  alertIds?: string[];
}

export class UpdateWorkOrderDto extends PartialType(CreateWorkOrderDto) {}

export class ListWorkOrdersQuery extends PageQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,128}$/)
  machineId?: string;

  @ApiPropertyOptional({ enum: WORK_ORDER_STATUSES })
  @IsOptional()
  @IsIn(WORK_ORDER_STATUSES)
  status?: (typeof WORK_ORDER_STATUSES)[number];
}
