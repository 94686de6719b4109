import type { AlertMessage, TwinMessage } from '@continuum/contracts';

/** New readings of one machine since the last `reading` event: per sensor, times (epoch ms) and values. */
export interface LiveReadings {
  plantId: string;
  machineId: string;
  sensors: Record<string, { t: number[]; v: number[] }>;
}

/** A work order that was created, changed or deleted through the api. */
export interface LiveWorkOrder {
  id: string;
  plantId: string;
  machineId: string;
  title: string;
  status: string;
  priority: string;
  crew: string | null;
  windowStart: number | null;
  windowEnd: number | null;
  deleted: boolean;
}

/** A training job's progress (the training app's TrainingProgress event, forwarded unchanged). */
export interface LiveTrainingProgress {
  jobId: string;
  assetType: string;
  status: string;
  epoch: number;
  epochs: number;
  loss: number | null;
  etaSeconds: number | null;
  modelId: string | null;
  error: string | null;
  [key: string]: unknown;
}

/**
 * Every event the `/live` namespace sends to browsers and its payload. Sent only through
 * {@link LiveGateway.clientSend}, so that no untyped event name reaches a client.
 */
export interface ClientEventMap {
  reading: LiveReadings;
  twin: TwinMessage;
  alert: AlertMessage;
  'work-order': LiveWorkOrder;
  'training-progress': LiveTrainingProgress;
}
export type ClientEvent = keyof ClientEventMap;

/** What a client asks for: `join` / `leave` a plant's or a machine's room (acknowledged). */
export interface RoomRequest {
  plantId?: string;
  machineId?: string;
}
export type RoomReply = { ok: true; room: string } | { ok: false; error: string };

/** Room names: `plant:<id>`, `machine:<id>`; training progress goes to `training` (every client). */
export const plantRoom = (plantId: string) => `plant:${plantId}`;
export const machineRoom = (machineId: string) => `machine:${machineId}`;
export const TRAINING_ROOM = 'training';
