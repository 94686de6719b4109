import { Injectable } from '@nestjs/common';
import type { TwinForecastSummary, TwinMessage } from '@continuum/contracts';
import { TwinPredictionsRepository } from '@continuum/persistence';
import type { TwinSummaryDto } from './dto/twin.dto';

/** The latest forecast summary the twin published for a machine, with when and by which model. */
export interface RememberedForecast {
  ts: number;
  modelVersion: string;
  summary: TwinForecastSummary;
}

/**
 * The latest twin message and forecast summary per machine, as they arrive on the bus
 * (`TwinUpdated`). The twin computes forecasts in its own process and publishes only their
 * summary (periodically, TWIN_FORECAST_INTERVAL_MS), so this is where the api finds them; after an
 * api restart a machine's forecast is known again at the twin's next forecast. Machines without a
 * message since the api started fall back to their latest row in twin_predictions.
 */
@Injectable()
export class TwinSummaries {
  private readonly latest = new Map<string, TwinMessage>();
  private readonly forecasts = new Map<string, RememberedForecast>();

  constructor(private readonly predictions: TwinPredictionsRepository) {}

  remember(message: TwinMessage): void {
    const previous = this.latest.get(message.machineId);
    if (!previous || previous.ts <= message.ts) this.latest.set(message.machineId, message);
    if (message.forecast)
      this.forecasts.set(message.machineId, {
        ts: message.ts,
        modelVersion: message.modelVersion,
        summary: message.forecast,
      });
  }

  message(machineId: string): TwinMessage | undefined {
    return this.latest.get(machineId);
  }

  forecast(machineId: string): RememberedForecast | undefined {
    return this.forecasts.get(machineId);
  }

  forget(machineId: string): void {
    this.latest.delete(machineId);
    this.forecasts.delete(machineId);
  }

  /** Twin summaries of the machines (those without a twin yet map to null). */
  async summariesOf(machineIds: readonly string[]): Promise<Map<string, TwinSummaryDto | null>> {
    const out = new Map<string, TwinSummaryDto | null>();
    const missing: string[] = [];
    for (const id of machineIds) {
      const m = this.latest.get(id);
      if (m)
        out.set(id, {
          lastUpdate: m.ts,
          anomalyScore: m.anomalyScore,
          modelVersion: m.modelVersion,
          rulMs: this.forecasts.get(id)?.summary.rulMs ?? null,
        });
      else missing.push(id);
    }
    for (const row of await this.predictions.latest(missing))
      out.set(row.machineId, {
        lastUpdate: row.time,
        anomalyScore: row.anomalyScore,
        modelVersion: row.modelVersion,
        rulMs: this.forecasts.get(row.machineId)?.summary.rulMs ?? null,
      });
    for (const id of machineIds) if (!out.has(id)) out.set(id, null);
    return out;
  }
}
