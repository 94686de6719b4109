import type { ProcessStats, TwinReading } from './twin-processor';

/**
 * Splits a batch into slices of at most `perMachine` readings of each machine, each machine's readings
 * in time order across the slices (slice j holds its readings j·perMachine … (j+1)·perMachine − 1).
 *
 * Why: the processor applies a machine's readings in rounds (one batched solve per round), so a batch
 * costs about as many rounds as its busiest machine has readings. After a stall, a capped fetch of
 * 20,000 rows over a few machines is thousands of rounds — ~30 s of synchronous work in the soak, during
 * which the twin's lease rounds could not run and its leases were dropped. Processed slice by slice with
 * the event loop's turn in between, the same work leaves room for lease rounds, health and MQTT.
 */
export function sliceByMachine(readings: readonly TwinReading[], perMachine: number): TwinReading[][] {
  if (!Number.isInteger(perMachine) || perMachine < 1)
    throw new Error(`readings per machine per slice must be a positive integer, got ${perMachine}`);
  const byMachine = new Map<string, TwinReading[]>();
  for (const r of readings) {
    let list = byMachine.get(r.machineId);
    if (!list) byMachine.set(r.machineId, (list = []));
    list.push(r);
  }
  const slices: TwinReading[][] = [];
  for (const list of byMachine.values()) {
    // Stable: readings of one time keep their order.
    list.sort((a, b) => a.timeMs - b.timeMs);
    list.forEach((r, i) => (slices[Math.floor(i / perMachine)] ??= []).push(r));
  }
  return slices;
}

/** The statistics of several slices as one batch's. */
export function mergeStats(parts: readonly ProcessStats[]): ProcessStats {
  const total: ProcessStats = { updates: 0, rounds: 0, solves: [], rejected: {}, outOfOrder: 0 };
  for (const p of parts) {
    total.updates += p.updates;
    total.rounds += p.rounds;
    total.solves.push(...p.solves);
    total.outOfOrder += p.outOfOrder;
    for (const [reason, n] of Object.entries(p.rejected) as [keyof ProcessStats['rejected'], number][])
      total.rejected[reason] = (total.rejected[reason] ?? 0) + n;
  }
  return total;
}
