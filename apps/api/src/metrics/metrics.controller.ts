import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/auth.decorators';
import { Controller, Get, Header, Inject } from '@nestjs/common';
import type { Registry } from 'prom-client';

/** Injection token of the process's Prometheus registry (`Infrastructure.metrics`). */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** `GET /metrics`: every metric the apps in this process registered, in Prometheus text format. */
@Public()
@SkipThrottle()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
