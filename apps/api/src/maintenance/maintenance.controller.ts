import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { AcceptScheduleDto, ScheduleRequestDto } from './dto/schedule.dto';
import { MaintenanceService } from './maintenance.service';

/**
 * Maintenance scheduling: propose a cost-minimising schedule (a MILP solved by HiGHS; see
 * docs/scheduling.md), then accept it to schedule the work orders.
 */
@ApiTags('maintenance')
@ApiBearerAuth()
@RequireRole('operator')
@Controller('maintenance/schedule')
export class MaintenanceController {
  constructor(private readonly maintenance: MaintenanceService) {}

  /** A proposed schedule for open work orders and machines at risk; 422 when none is feasible. */
  @Post()
  @HttpCode(200)
  propose(@CurrentPrincipal() principal: Principal, @Body() dto: ScheduleRequestDto) {
    return this.maintenance.propose(principal, dto);
  }

  /** Schedules the proposal's assignments (409 when a crew would be double-booked). */
  @Post('accept')
  accept(@CurrentPrincipal() principal: Principal, @Body() dto: AcceptScheduleDto) {
    return this.maintenance.accept(principal, dto);
  }
}
