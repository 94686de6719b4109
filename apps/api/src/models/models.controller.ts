import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import {
  ActivateModelDto,
  ActivationDto,
  ListModelsQuery,
  MetricPairDto,
  ModelComparisonDto,
  ModelDto,
  ModelPageDto,
} from './dto/model.dto';
import { ModelsService } from './models.service';

@ApiTags('training')
@ApiBearerAuth()
@ApiExtraModels(MetricPairDto)
@Controller('models')
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

  @Get()
  @ApiOkResponse({ type: ModelPageDto, description: 'model versions (no weights), by asset type, newest first' })
  list(@Query() query: ListModelsQuery) {
    return this.models.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: ModelDto })
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.models.get(id);
  }

  @Get(':id/compare/:otherId')
  @ApiOkResponse({ type: ModelComparisonDto, description: 'validation metrics side by side' })
  compare(@Param('id', ParseUUIDPipe) id: string, @Param('otherId', ParseUUIDPipe) otherId: string) {
    return this.models.compare(id, otherId);
  }

  @Post(':id/activate')
  @RequireRole('admin')
  @HttpCode(200)
  @ApiOkResponse({ type: ActivationDto, description: 'the twin picks it up at its next model poll' })
  activate(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: ActivateModelDto,
  ) {
    return this.models.activate(principal, id, dto.force ?? false);
  }

  @Post(':id/rollback')
  @RequireRole('admin')
  @HttpCode(200)
  @ApiOkResponse({ type: ActivationDto, description: 'the version active before this one, active again' })
  rollback(@CurrentPrincipal() principal: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.models.rollback(principal, id);
  }
}
