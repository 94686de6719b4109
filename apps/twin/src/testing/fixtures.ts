import { OdeRnnModel, type TwinModel } from '@continuum/neural';
import type { MachineInfo } from '../engine/twin-processor';

/** A small random (untrained) twin model over `sensors`, time in seconds. */
export function randomTwinModel(
  options: { sensors?: string[]; hiddenDim?: number; odeHidden?: number[]; seed?: number; assetType?: string } = {},
): TwinModel {
  const sensors = options.sensors ?? ['temperature', 'vibration', 'current'];
  const model = new OdeRnnModel({
    obsDim: sensors.length,
    hiddenDim: options.hiddenDim ?? 8,
    odeHidden: options.odeHidden ?? [32],
    seed: options.seed ?? 3,
  });
  const assetType = options.assetType ?? 'test-asset';
  return {
    id: null,
    assetType,
    version: `test:${assetType}:${options.seed ?? 3}`,
    model,
    sensors,
    offset: Float64Array.from(sensors, () => 50),
    scale: Float64Array.from(sensors, () => 10),
    timeScaleMs: 1000,
  };
}

export function machineInfo(id: string, assetType = 'test-asset', plantId = 'plant-1'): MachineInfo {
  return { id, plantId, assetType, thresholds: {} };
}

/** Deterministic standard normals (Box–Muller over a linear congruential generator). */
export function gaussian(seed = 1): () => number {
  let s = seed >>> 0 || 1;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967298;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}
