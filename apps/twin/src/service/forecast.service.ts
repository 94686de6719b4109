import { Injectable } from '@nestjs/common';
import type { MachineForecast } from '@continuum/neural';
import { TwinService } from './twin.service';

/** Options of a forecast request (defaults: TWIN_FORECAST_HORIZON_MS, _POINTS, _SAMPLES). */
export interface ForecastOptions {
  horizonMs?: number;
  points?: number;
  samples?: number;
}

/**
 * Forecasts for the api: a machine's latent state integrated forward with S posterior samples (one
 * batched solve), p10/p50/p90 trajectories per sensor and the remaining-useful-life distribution
 * against the machine's failure thresholds (`machines.sensors[].failureThreshold`).
 */
@Injectable()
export class ForecastService {
  constructor(private readonly twin: TwinService) {}

  /** @returns null when this instance holds no twin of the machine */
  forecast(machineId: string, options: ForecastOptions = {}): Promise<MachineForecast | null> {
    if (options.horizonMs !== undefined && !(options.horizonMs > 0)) throw new RangeError('horizonMs must be positive');
    if (options.samples !== undefined && !(options.samples >= 1 && options.samples <= 1024))
      throw new RangeError('samples must be in 1..1024');
    if (options.points !== undefined && !(options.points >= 1 && options.points <= 500))
      throw new RangeError('points must be in 1..500');
    return this.twin.forecast(machineId, options);
  }

  /** Resets a machine's twin (state and checkpoint); true when there was one. */
  reset(machineId: string): Promise<boolean> {
    return this.twin.reset(machineId);
  }
}
