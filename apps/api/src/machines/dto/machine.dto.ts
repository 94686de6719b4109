import { ApiProperty, ApiPropertyOptional, PartialType, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { PageQuery } from '../../common/pagination.dto';
import { TwinSummaryDto } from '../../twin/dto/twin.dto';

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const ID_MESSAGE = 'must be 1-128 of A-Z a-z 0-9 _ . - :';

export class FailureThresholdDto {
  @ApiPropertyOptional({ description: 'failure when the value rises above this' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  above?: number;

  @ApiPropertyOptional({ description: 'failure when the value falls below this' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  below?: number;
}

export class SensorSpecDto {
  @ApiProperty({ example: 'bearing_temp' })
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'sensor name must be 1-64 of A-Z a-z 0-9 _ . - :' })
  name!: string;

  @ApiPropertyOptional({ example: 'degC' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  unit?: string;

  @ApiPropertyOptional({ type: FailureThresholdDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => FailureThresholdDto)
  failureThreshold?: FailureThresholdDto;
}

export class RegisterMachineDto {
  @ApiProperty({ example: 'pump-07' })
  @Matches(ID, { message: `id ${ID_MESSAGE}` })
  id!: string;

  @ApiProperty({ example: 'plant-a' })
  @Matches(ID, { message: `plantId ${ID_MESSAGE}` })
  plantId!: string;

  @ApiProperty({ example: 'centrifugal-pump' })
  @Matches(ID, { message: `assetType ${ID_MESSAGE}` })
  assetType!: string;

  @ApiPropertyOptional({ example: 'Cooling water pump 7' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ type: [SensorSpecDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(256)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => SensorSpecDto)
  sensors?: SensorSpecDto[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class UpdateMachineDto extends PartialType(OmitType(RegisterMachineDto, ['id'] as const)) {}

export class ListMachinesQuery extends PageQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ID, { message: `plantId ${ID_MESSAGE}` })
  plantId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ID, { message: `assetType ${ID_MESSAGE}` })
  assetType?: string;
}

export class MachineDto {
  @ApiProperty() id!: string;
  @ApiProperty() plantId!: string;
  @ApiProperty() assetType!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [SensorSpecDto] }) sensors!: SensorSpecDto[];
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: Record<string, unknown>;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) staleSince!: Date | null;
  @ApiProperty({ format: 'date-time' }) registeredAt!: Date;
  @ApiProperty({ format: 'date-time' }) updatedAt!: Date;
  @ApiPropertyOptional({
    type: TwinSummaryDto,
    nullable: true,
    description: 'last twin update, anomaly score, RUL p10/p50/p90 and model version; null before the first',
  })
  twin!: TwinSummaryDto | null;
}

export class MachinePageDto {
  @ApiProperty({ type: [MachineDto] }) items!: MachineDto[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}
