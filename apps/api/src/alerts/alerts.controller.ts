import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { AlertActionDto, AlertCommentDto, AlertDto, AlertPageDto, ListAlertsQuery } from './dto/alert.dto';
import { AlertsService } from './alerts.service';

@ApiTags('alerts')
@ApiBearerAuth()
@Controller('alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @ApiOkResponse({ type: AlertPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListAlertsQuery) {
    return this.alerts.list(principal, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: AlertDto, description: 'the alert with its history' })
  get(@CurrentPrincipal() principal: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.alerts.get(principal, id);
  }

  @Post(':id/acknowledge')
  @RequireRole('operator')
  @HttpCode(200)
  @ApiOkResponse({ type: AlertDto })
  acknowledge(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: AlertActionDto,
  ) {
    return this.alerts.acknowledge(principal, id, dto.comment);
  }

  @Post(':id/resolve')
  @RequireRole('operator')
  @HttpCode(200)
  @ApiOkResponse({ type: AlertDto })
  resolve(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: AlertActionDto,
  ) {
    return this.alerts.resolve(principal, id, dto.comment);
  }

  @Post(':id/comments')
  @RequireRole('operator')
  @HttpCode(200)
  @ApiOkResponse({ type: AlertDto })
  comment(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: AlertCommentDto,
  ) {
    return this.alerts.comment(principal, id, dto.comment);
  }
}
