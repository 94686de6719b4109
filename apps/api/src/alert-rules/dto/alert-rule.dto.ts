import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

export const DETECTORS = ['residual-cusum', 'residual-mewma', 'anomaly-cusum', 'forecast'] as const;
export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const finite = { allowNaN: false, allowInfinity: false };

/** An alert rule of apps/alerting (see docs/alerting.md for the detectors and their params). */
export class CreateAlertRuleDto {
  @ApiProperty({ example: 'bearing divergence' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'one machine (or null)' })
  @IsOptional()
  @Matches(ID)
  machineId?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'every machine of an asset type (or null)' })
  @IsOptional()
  @Matches(ID)
  assetType?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: "only twin messages of this model version, e.g. 'default:centrifugal-pump' (or null: any)",
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:@-]{1,200}$/)
  modelVersion?: string | null;

  @ApiProperty({ enum: DETECTORS })
  @IsIn(DETECTORS)
  detector!: (typeof DETECTORS)[number];

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'sensors watched; null: all' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(256)
  @IsString({ each: true })
  sensors?: string[] | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'number' } })
  @IsOptional()
  @IsObject()
  params?: Record<string, number>;

  @ApiProperty({ description: 'raise at this detector value' })
  @IsNumber(finite)
  raiseAt!: number;

  @ApiProperty({ description: 'clear below this value (hysteresis; below raiseAt)' })
  @IsNumber(finite)
  clearAt!: number;

  @ApiProperty({ enum: SEVERITIES })
  @IsIn(SEVERITIES)
  severity!: (typeof SEVERITIES)[number];

  @ApiPropertyOptional({ minimum: 0 })
  @IsOptional()
  @IsNumber(finite)
  @Min(0)
  minDurationMs?: number;

  @ApiPropertyOptional({ minimum: 0, nullable: true, type: Number })
  @IsOptional()
  @IsNumber(finite)
  @Min(1)
  escalateAfterMs?: number | null;

  @ApiPropertyOptional({ enum: SEVERITIES, nullable: true })
  @IsOptional()
  @IsIn(SEVERITIES)
  escalateTo?: (typeof SEVERITIES)[number] | null;

  @ApiPropertyOptional({ minimum: 0 })
  @IsOptional()
  @IsNumber(finite)
  @Min(0)
  autoClearMs?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  createWorkOrder?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateAlertRuleDto extends PartialType(CreateAlertRuleDto) {}

export class AlertRuleDto extends CreateAlertRuleDto {
  @ApiProperty() id!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ format: 'date-time' }) updatedAt!: Date;
}
