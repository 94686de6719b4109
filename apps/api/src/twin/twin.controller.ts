import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import {
  BandDto,
  ForecastBandDto,
  ForecastDto,
  ForecastQuery,
  SensorPredictionDto,
  TwinStateDto,
} from './dto/twin.dto';
import { TwinService } from './twin.service';

@ApiTags('twin')
@ApiBearerAuth()
@ApiExtraModels(SensorPredictionDto, BandDto, ForecastBandDto)
@Controller('machines/:id/twin')
export class TwinController {
  constructor(private readonly twin: TwinService) {}

  @Get()
  @ApiOkResponse({ type: TwinStateDto, description: "the twin's summary, latest prediction and checkpoint" })
  state(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.twin.state(principal, id);
  }

  @Get('forecast')
  @ApiOkResponse({
    type: ForecastDto,
    description:
      "the twin's last published forecast, or one computed on request (horizon, samples, points, seed): RUL distribution, crossing risk, forecast bands, and the prediction band over the last hours",
  })
  forecast(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: ForecastQuery) {
    return this.twin.forecast(principal, id, query);
  }

  @Post('reset')
  @RequireRole('admin')
  @HttpCode(200)
  reset(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.twin.reset(principal, id);
  }
}
