import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { PageQuery } from '../../common/pagination.dto';

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved', 'cleared'] as const;
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export class ListAlertsQuery extends PageQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ID)
  machineId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ID)
  plantId?: string;

  @ApiPropertyOptional({
    description: 'comma-separated statuses (open, acknowledged, resolved, cleared)',
    example: 'open,acknowledged',
  })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',').filter(Boolean) : value))
  @IsIn(ALERT_STATUSES, { each: true })
  status?: (typeof ALERT_STATUSES)[number][];
}

export class AlertActionDto {
  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  comment?: string;
}

export class AlertCommentDto {
  @ApiProperty({ maxLength: 2000 })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  comment!: string;
}

export class AlertTransitionDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiPropertyOptional({ nullable: true, enum: ALERT_STATUSES }) from!: string | null;
  @ApiProperty({ enum: ALERT_STATUSES }) to!: string;
  @ApiProperty() by!: string;
  @ApiPropertyOptional() comment?: string;
}

export class AlertDto {
  @ApiProperty() id!: string;
  @ApiProperty() machineId!: string;
  @ApiProperty() plantId!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) ruleId!: string | null;
  @ApiProperty({ enum: ['divergence', 'forecast', 'threshold'] }) kind!: string;
  @ApiProperty({ enum: ['critical', 'major', 'minor', 'warning'] }) severity!: string;
  @ApiProperty({ enum: ALERT_STATUSES }) status!: string;
  @ApiProperty() message!: string;
  @ApiProperty() count!: number;
  @ApiPropertyOptional({ nullable: true, type: Number }) peak!: number | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) details!: Record<string, unknown>;
  @ApiProperty({ type: [AlertTransitionDto] }) history!: AlertTransitionDto[];
  @ApiProperty({ format: 'date-time' }) raisedAt!: Date;
  @ApiProperty({ format: 'date-time' }) lastSeenAt!: Date;
  @ApiProperty({ format: 'date-time' }) updatedAt!: Date;
}

export class AlertPageDto {
  @ApiProperty({ type: [AlertDto] }) items!: AlertDto[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}
