import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiCreatedResponse, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ListMachinesQuery, MachineDto, MachinePageDto, RegisterMachineDto, UpdateMachineDto } from './dto/machine.dto';
import { MachinesService } from './machines.service';

@ApiTags('machines')
@ApiBearerAuth()
@Controller('machines')
export class MachinesController {
  constructor(private readonly machines: MachinesService) {}

  @Get()
  @ApiOkResponse({ type: MachinePageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListMachinesQuery) {
    return this.machines.listWithTwin(principal, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: MachineDto })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.machines.getWithTwin(principal, id);
  }

  @Post()
  @RequireRole('admin')
  @ApiCreatedResponse({ type: MachineDto })
  register(@CurrentPrincipal() principal: Principal, @Body() dto: RegisterMachineDto) {
    return this.machines.register(principal, dto);
  }

  @Patch(':id')
  @RequireRole('admin')
  @ApiOkResponse({ type: MachineDto })
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: UpdateMachineDto) {
    return this.machines.update(principal, id, dto);
  }

  @Delete(':id')
  @RequireRole('admin')
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    await this.machines.remove(principal, id);
  }
}
