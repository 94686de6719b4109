import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { SensorDef } from '../models';
import type { Rng } from '../random/rng';
import type { MachineStep } from '../plant/machine';

/**
 * NASA C-MAPSS turbofan degradation data (A. Saxena, K. Goebel, D. Simon, N. Eklund, "Damage
 * propagation modeling for aircraft engine run-to-failure simulation", PHM 2008): rows of
 * `unit cycle setting1..3 sensor1..21`, whitespace-separated. Sensor names and units follow the
 * paper's Table 2.
 */
export const CMAPSS_SENSORS: readonly Pick<SensorDef, 'name' | 'unit'>[] = [
  { name: 'setting1', unit: 'altitude-kft' },
  { name: 'setting2', unit: 'mach' },
  { name: 'setting3', unit: 'TRA-pct' },
  { name: 'T2', unit: 'degR' },
  { name: 'T24', unit: 'degR' },
  { name: 'T30', unit: 'degR' },
  { name: 'T50', unit: 'degR' },
  { name: 'P2', unit: 'psia' },
  { name: 'P15', unit: 'psia' },
  { name: 'P30', unit: 'psia' },
  { name: 'Nf', unit: 'rpm' },
  { name: 'Nc', unit: 'rpm' },
  { name: 'epr', unit: '1' },
  { name: 'Ps30', unit: 'psia' },
  { name: 'phi', unit: 'pps/psi' },
  { name: 'NRf', unit: 'rpm' },
  { name: 'NRc', unit: 'rpm' },
  { name: 'BPR', unit: '1' },
  { name: 'farB', unit: '1' },
  { name: 'htBleed', unit: '1' },
  { name: 'Nf_dmd', unit: 'rpm' },
  { name: 'PCNfR_dmd', unit: 'rpm' },
  { name: 'W31', unit: 'lbm/s' },
  { name: 'W32', unit: 'lbm/s' },
];

/** One engine of a C-MAPSS file: its cycles in order, each the 24 values above. */
export interface CmapssUnit {
  unit: number;
  cycles: Float64Array[];
}

/** Reads a C-MAPSS file into units; throws a clear error for a missing file or a bad row. */
export function readCmapss(path: string): { units: CmapssUnit[]; runToFailure: boolean } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the C-MAPSS file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const byUnit = new Map<number, Float64Array[]>();
  text.split('\n').forEach((line, i) => {
    const fields = line.trim().split(/\s+/).filter(Boolean);
    if (fields.length === 0) return;
    if (fields.length !== 26) throw new Error(`${path}:${i + 1}: expected 26 columns, found ${fields.length}`);
    const nums = fields.map(Number);
    if (nums.some((n) => !Number.isFinite(n))) throw new Error(`${path}:${i + 1}: not a number`);
    const unit = nums[0];
    if (!byUnit.has(unit)) byUnit.set(unit, []);
    byUnit.get(unit)!.push(Float64Array.from(nums.slice(2)));
  });
  const units = [...byUnit.entries()].sort((a, b) => a[0] - b[0]).map(([unit, cycles]) => ({ unit, cycles }));
  // Training files run every engine to failure; test files stop some time before it.
  return { units, runToFailure: basename(path).startsWith('train') };
}

/**
 * A C-MAPSS engine replayed as a machine of asset type `turbofan`: cycle k becomes one reading
 * (all 24 values) at k × interval simulated seconds, some cycles dropped at random. In a
 * run-to-failure file the last cycle is the failure (ground truth); the engine then falls silent.
 */
export class CmapssEngine {
  readonly assetType = 'turbofan';
  readonly sensors = CMAPSS_SENSORS;
  private next = 0;
  failedAt: number | null = null;

  constructor(
    readonly machineId: string,
    private readonly data: CmapssUnit,
    private readonly interval: number,
    private readonly dropRate: number,
    private readonly runToFailure: boolean,
    private readonly rng: Rng,
  ) {}

  get cycles(): number {
    return this.data.cycles.length;
  }

  advance(tEnd: number): MachineStep {
    const step: MachineStep = { samples: [], truth: [] };
    if (this.next === 0)
      step.truth.push({
        type: 'machine',
        machineId: this.machineId,
        t: 0,
        assetType: this.assetType,
        source: 'cmapss',
        unit: this.data.unit,
        cycles: this.cycles,
      });
    while (this.next < this.data.cycles.length && (this.next + 1) * this.interval <= tEnd) {
      const t = (this.next + 1) * this.interval;
      const row = this.data.cycles[this.next];
      this.next++;
      const last = this.next === this.data.cycles.length;
      if (!last && this.rng.bernoulli(this.dropRate)) continue;
      const values: Record<string, number> = {};
      CMAPSS_SENSORS.forEach((s, i) => (values[s.name] = row[i]));
      step.samples.push({ machineId: this.machineId, t, values });
      if (last && this.runToFailure) {
        this.failedAt = t;
        step.truth.push({ type: 'failure', machineId: this.machineId, t, cycle: this.next });
        step.died = t;
      }
    }
    return step;
  }
}
