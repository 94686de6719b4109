import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import {
  AggregateTelemetryDto,
  AggregateTelemetryQuery,
  RawTelemetryDto,
  RawTelemetryQuery,
} from './dto/telemetry.dto';
import { TelemetryService } from './telemetry.service';

@ApiTags('telemetry')
@ApiBearerAuth()
@Controller('machines/:id/telemetry')
export class TelemetryController {
  constructor(private readonly telemetry: TelemetryService) {}

  /** Raw readings in [from, to), per sensor; `points` downsamples each series server-side (LTTB). */
  @Get()
  @ApiOkResponse({ type: RawTelemetryDto })
  raw(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: RawTelemetryQuery) {
    return this.telemetry.raw(principal, id, query);
  }

  /** avg/min/max/count per bucket, from the per-minute continuous aggregate. */
  @Get('aggregate')
  @ApiOkResponse({ type: AggregateTelemetryDto })
  aggregate(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: AggregateTelemetryQuery,
  ) {
    return this.telemetry.aggregate(principal, id, query);
  }
}
