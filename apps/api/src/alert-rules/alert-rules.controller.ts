import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/auth.decorators';
import { AlertRuleDto, CreateAlertRuleDto, UpdateAlertRuleDto } from './dto/alert-rule.dto';
import { AlertRulesService } from './alert-rules.service';

@ApiTags('alert-rules')
@ApiBearerAuth()
@Controller('alert-rules')
export class AlertRulesController {
  constructor(private readonly rules: AlertRulesService) {}

  @Get()
  @ApiOkResponse({ type: [AlertRuleDto] })
  list() {
    return this.rules.list();
  }

  @Get(':id')
  @ApiOkResponse({ type: AlertRuleDto })
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.rules.get(id);
  }

  @Post()
  @RequireRole('admin')
  @ApiCreatedResponse({ type: AlertRuleDto })
  create(@Body() dto: CreateAlertRuleDto) {
    return this.rules.create(dto);
  }

  @Patch(':id')
  @RequireRole('admin')
  @ApiOkResponse({ type: AlertRuleDto })
  update(@Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateAlertRuleDto) {
    return this.rules.update(id, dto);
  }

  @Delete(':id')
  @RequireRole('admin')
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.rules.remove(id);
  }
}
