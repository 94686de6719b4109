import { parseArgs } from 'node:util';

export const CALIBRATE_USAGE =
  'usage: npm run alerting:calibrate -- --asset-type <t> --from <time> --to <time> [--machines a,b] [--model-version v] [--tau <min>] [--save [--raise 80] [--clear 32] [--hold 30] [--rule <id>]]';

/** What `npm run alerting:calibrate` was asked to do. */
export interface CalibrateArgs {
  assetType: string;
  from: Date;
  to: Date;
  machineIds: string[] | undefined;
  modelVersion: string | undefined;
  tauMinutes: number;
  save: boolean;
  raiseAt: number;
  clearAt: number;
  holdMinutes: number;
  /** Update this rule instead of creating one. */
  ruleId: string | undefined;
}

function date(name: string, text: string | undefined): Date {
  const d = new Date(text ?? '');
  if (!text || Number.isNaN(d.getTime()))
    throw new Error(`--${name} needs a time (ISO 8601), got ${text ?? 'nothing'}`);
  return d;
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number, got ${text}`);
  return v;
}

/** Reads the command line; every error says which option and why (unknown options too). */
export function parseCalibrateArgs(argv: readonly string[]): CalibrateArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'asset-type': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      machines: { type: 'string' },
      'model-version': { type: 'string' },
      tau: { type: 'string' },
      save: { type: 'boolean', default: false },
      raise: { type: 'string' },
      clear: { type: 'string' },
      hold: { type: 'string' },
      rule: { type: 'string' },
    },
  });
  const assetType = values['asset-type'];
  if (!assetType) throw new Error(`--asset-type is required\n${CALIBRATE_USAGE}`);
  const from = date('from', values.from);
  const to = date('to', values.to);
  if (!(from.getTime() < to.getTime())) throw new Error('--from must be before --to');
  const raiseAt = positive('raise', values.raise, 80);
  const clearAt = positive('clear', values.clear, 0.4 * raiseAt);
  if (clearAt >= raiseAt) throw new Error('--clear must be below --raise (hysteresis)');
  const holdMinutes = values.hold === undefined ? 30 : Number(values.hold);
  if (!(holdMinutes >= 0)) throw new Error(`--hold must be minutes ≥ 0, got ${values.hold}`);
  return {
    assetType,
    from,
    to,
    machineIds: values.machines?.split(',').filter(Boolean),
    modelVersion: values['model-version'],
    tauMinutes: positive('tau', values.tau, 60),
    save: values.save ?? false,
    raiseAt,
    clearAt,
    holdMinutes,
    ruleId: values.rule,
  };
}
