import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDate,
  IsIn,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  IsObject,
  ValidateNested,
} from 'class-validator';

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export class PeriodDto {
  @ApiProperty({ format: 'date-time' })
  @Type(() => Date)
  @IsDate()
  start!: Date;

  @ApiProperty({ format: 'date-time' })
  @Type(() => Date)
  @IsDate()
  end!: Date;
}

export class ShiftDto extends PeriodDto {
  @ApiPropertyOptional({ description: 'overtime shifts cost overtimeCostPerHour extra' })
  @IsOptional()
  @IsBoolean()
  overtime?: boolean;
}

export class CrewDto {
  @ApiProperty({ example: 'crew-a' })
  @IsString()
  @MaxLength(100)
  id!: string;

  @ApiProperty({ type: [ShiftDto] })
  @IsArray()
  @ArrayMaxSize(500)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => ShiftDto)
  shifts!: ShiftDto[];
}

export class WindowDto extends PeriodDto {
  @ApiProperty({ example: 'plant-a' })
  @Matches(ID)
  plantId!: string;
}

export class RulHoursDto {
  @ApiProperty() @IsNumber() @IsPositive() p10!: number;
  @ApiProperty() @IsNumber() @IsPositive() p50!: number;
  @ApiProperty() @IsNumber() @IsPositive() p90!: number;
}

export class MachineRiskDto {
  @ApiProperty()
  @Matches(ID)
  machineId!: string;

  @ApiPropertyOptional({
    type: RulHoursDto,
    description: 'remaining useful life quantiles, hours from the horizon start',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RulHoursDto)
  rulHours?: RulHoursDto;

  @ApiPropertyOptional() @IsOptional() @IsNumber() @Min(0) failureCost?: number;
  @ApiPropertyOptional() @IsOptional() @IsNumber() @Min(0) downtimeCostPerHour?: number;
  @ApiPropertyOptional({ description: 'minutes of work when no work order gives them' })
  @IsOptional()
  @IsNumber()
  @Min(1)
  @Max(10_080)
  estimatedMinutes?: number;
}

export class ScheduleOptionsDto {
  @ApiPropertyOptional({ default: 10_000 }) @IsOptional() @IsNumber() @Min(0) defaultFailureCost?: number;
  @ApiPropertyOptional({ default: 100 }) @IsOptional() @IsNumber() @Min(0) defaultDowntimeCostPerHour?: number;
  @ApiPropertyOptional({ default: 50 }) @IsOptional() @IsNumber() @Min(0) overtimeCostPerHour?: number;
  @ApiPropertyOptional({ default: 20 }) @IsOptional() @IsNumber() @Min(1) @Max(120) timeLimitSeconds?: number;
}

export class ScheduleRequestDto {
  @ApiProperty({ type: PeriodDto })
  @IsObject()
  @ValidateNested()
  @Type(() => PeriodDto)
  horizon!: PeriodDto;

  @ApiPropertyOptional({ enum: [15, 30, 60, 120, 240], default: 60 })
  @IsOptional()
  @IsIn([15, 30, 60, 120, 240])
  slotMinutes?: number;

  @ApiProperty({ type: [CrewDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => CrewDto)
  crews!: CrewDto[];

  @ApiProperty({ type: [WindowDto], description: 'maintenance windows; a plant without any cannot be worked on' })
  @IsArray()
  @ArrayMaxSize(5000)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => WindowDto)
  windows!: WindowDto[];

  @ApiPropertyOptional({
    type: [MachineRiskDto],
    description: 'machines at risk, with their RUL; included even without a work order',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(5000)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => MachineRiskDto)
  machines?: MachineRiskDto[];

  @ApiPropertyOptional({ type: [String], description: 'limit the schedule to these plants' })
  @IsOptional()
  @IsArray()
  @Matches(ID, { each: true })
  plantIds?: string[];

  @ApiPropertyOptional({ type: ScheduleOptionsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ScheduleOptionsDto)
  options?: ScheduleOptionsDto;
}

export class AssignmentDto {
  @ApiProperty({ nullable: true, type: String })
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  workOrderId!: string | null;

  @ApiProperty() @Matches(ID) machineId!: string;
  @ApiProperty() @IsString() @MaxLength(100) crewId!: string;

  @ApiProperty({ format: 'date-time' })
  @Type(() => Date)
  @IsDate()
  start!: Date;

  @ApiProperty({ format: 'date-time' })
  @Type(() => Date)
  @IsDate()
  end!: Date;
}

export class AcceptScheduleDto {
  @ApiProperty({ type: [AssignmentDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(5000)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => AssignmentDto)
  assignments!: AssignmentDto[];
}
