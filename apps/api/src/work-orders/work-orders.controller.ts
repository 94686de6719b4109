import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { CreateWorkOrderDto, ListWorkOrdersQuery, UpdateWorkOrderDto } from './dto/work-order.dto';
import { WorkOrdersService } from './work-orders.service';

@ApiTags('work-orders')
@ApiBearerAuth()
@Controller('work-orders')
export class WorkOrdersController {
  constructor(private readonly orders: WorkOrdersService) {}

  @Get()
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListWorkOrdersQuery) {
    return this.orders.list(principal, query);
  }

  @Get(':id')
  get(@CurrentPrincipal() principal: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.orders.get(principal, id);
  }

  @Post()
  @RequireRole('operator')
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateWorkOrderDto) {
    return this.orders.create(principal, dto);
  }

  @Patch(':id')
  @RequireRole('operator')
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateWorkOrderDto,
  ) {
    return this.orders.update(principal, id, dto);
  }

  @Delete(':id')
  @RequireRole('operator')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.orders.remove(principal, id);
  }
}
