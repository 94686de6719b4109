import type { DeadLetterReason } from '@continuum/contracts';
import type { MachineEvent, Reading } from '@continuum/persistence';

/** A machine a message carried readings for: registered on first sight, its sensors added. */
export interface SeenMachine {
  id: string;
  plantId: string;
  sensors: string[];
}

/** What one MQTT message turned into: readings and facts to store, or a refusal with a reason. */
export interface DecodedMessage {
  readings: Reading[];
  machines: SeenMachine[];
  events: MachineEvent[];
  /** Machines whose data went stale (Sparkplug deaths), with the time of death (epoch ms). */
  stale: { machineId: string; since: number }[];
  rejection?: { reason: DeadLetterReason; detail: string };
}

/** The accepted time range of readings, relative to the time a message was received. */
export interface TimeWindow {
  maxFutureMs: number;
  /** 0: no lower bound. */
  maxAgeMs: number;
}

export const emptyDecoded = (): DecodedMessage => ({ readings: [], machines: [], events: [], stale: [] });

export const rejected = (reason: DeadLetterReason, detail: string): DecodedMessage => ({
  ...emptyDecoded(),
  rejection: { reason, detail },
});

/** `null` when `ts` lies in the window around `now`, otherwise why it does not. */
export function outsideWindow(ts: number, now: number, window: TimeWindow): string | null {
  if (ts > now + window.maxFutureMs)
    return `timestamp ${new Date(ts).toISOString()} is more than ${window.maxFutureMs} ms in the future`;
  if (window.maxAgeMs > 0 && ts < now - window.maxAgeMs)
    return `timestamp ${safeIso(ts)} is older than ${Math.round(window.maxAgeMs / 86_400_000)} days`;
  return null;
}

function safeIso(ts: number): string {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? String(ts) : d.toISOString();
}
