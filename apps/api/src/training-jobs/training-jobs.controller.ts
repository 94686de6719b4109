import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import {
  CreateTrainingJobDto,
  ListTrainingJobsQuery,
  TrainingJobDto,
  TrainingJobPageDto,
} from './dto/training-job.dto';
import { TrainingJobsService } from './training-jobs.service';

@ApiTags('training')
@ApiBearerAuth()
@Controller('training-jobs')
export class TrainingJobsController {
  constructor(private readonly jobs: TrainingJobsService) {}

  @Get()
  @ApiOkResponse({ type: TrainingJobPageDto, description: 'jobs, newest first' })
  list(@Query() query: ListTrainingJobsQuery) {
    return this.jobs.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: TrainingJobDto, description: 'the job with its progress' })
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.jobs.get(id);
  }

  /** The body is `unknown` to Nest's ValidationPipe: the job schema of @continuum/contracts validates it. */
  @Post()
  @RequireRole('admin')
  @ApiBody({ type: CreateTrainingJobDto })
  @ApiCreatedResponse({ type: TrainingJobDto, description: 'queued; a training service picks it up' })
  create(@CurrentPrincipal() principal: Principal, @Body() body: Record<string, unknown>) {
    return this.jobs.create(principal, body);
  }

  @Post(':id/cancel')
  @RequireRole('admin')
  @HttpCode(200)
  @ApiOkResponse({ type: TrainingJobDto })
  cancel(@CurrentPrincipal() principal: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.jobs.cancel(principal, id);
  }
}
