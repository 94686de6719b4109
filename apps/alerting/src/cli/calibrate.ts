/**
 * `npm run alerting:calibrate -- --asset-type <t> --from <time> --to <time> [--machines a,b,...]
 *   [--model-version v] [--tau <minutes>] [--save [--raise 80] [--clear 32] [--hold 30] [--rule <id>]]`
 *
 * Fits a `residual-mewma` reference (docs/alerting.md) from the twin's stored residuals of machines of
 * one asset type over a period when they were healthy, prints it as rule params with the averages'
 * correlations, and with --save stores it: a new rule for the asset type, or the rule --rule <id>
 * updated (its other fields kept), kept to the model version it was fitted on (`modelVersion`). Refit
 * after activating a new model version: until then the rule judges nothing. Uses DATABASE_URL, else
 * the embedded database.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '@continuum/config';
import { AlertRulesRepository, Database, MachinesRepository, TwinPredictionsRepository } from '@continuum/persistence';
import { referenceToParams } from '../detectors/mewma';
import { calibrateFromHistory } from '../rules/calibration';
import { RulesService } from '../rules/rules.service';

const USAGE =
  'usage: npm run alerting:calibrate -- --asset-type <t> --from <time> --to <time> [--machines a,b] [--model-version v] [--tau <min>] [--save [--raise 80] [--clear 32] [--hold 30] [--rule <id>]]';

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

async function main(): Promise<void> {
  const { values } = parseArgs({
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
  if (!assetType) throw new Error(`--asset-type is required\n${USAGE}`);
  const from = date('from', values.from);
  const to = date('to', values.to);
  const tauMinutes = positive('tau', values.tau, 60);
  const raiseAt = positive('raise', values.raise, 80);
  const clearAt = positive('clear', values.clear, 0.4 * raiseAt);
  if (clearAt >= raiseAt) throw new Error('--clear must be below --raise (hysteresis)');
  const holdMinutes = values.hold === undefined ? 30 : Number(values.hold);
  if (!(holdMinutes >= 0)) throw new Error(`--hold must be minutes ≥ 0, got ${values.hold}`);

  const config = loadConfig();
  const db = await Database.open(config.database);
  try {
    console.log(`calibrating residual-mewma for ${assetType}, ${from.toISOString()} to ${to.toISOString()}:`);
    const cal = await calibrateFromHistory(
      { machines: new MachinesRepository(db.dataSource), predictions: new TwinPredictionsRepository(db.dataSource) },
      {
        assetType,
        from,
        to,
        machineIds: values.machines?.split(',').filter(Boolean),
        modelVersion: values['model-version'],
        mewma: { tauMinutes },
      },
      (line) => console.log(line),
    );
    const { sensors } = cal.reference;
    console.log(`${cal.samples} samples from ${cal.machines.length} machines, model ${cal.modelVersion}`);
    console.log('correlation of the averaged residuals:');
    cal.correlation.forEach((row, i) =>
      console.log(`  ${sensors[i].padEnd(24)}${row.map((c) => c.toFixed(2).padStart(7)).join('')}`),
    );
    const params = { ...referenceToParams(cal.reference), tauMinutes, holdMinutes };
    console.log(JSON.stringify({ params }, null, 2));
    if (!values.save) return;
    const rules = new RulesService(new AlertRulesRepository(db.dataSource), config.alerting);
    if (!values.rule) {
      const defaults = await rules.storeDefaultsIfInForce();
      if (defaults.length)
        console.log(
          `alert_rules was empty, so the built-in defaults were in force: stored them (${defaults.length} rules) so that they keep applying next to the new one`,
        );
    }
    // The rule judges only the residuals of the model the reference was fitted on.
    const saved = values.rule
      ? await rules.update(values.rule, { params, raiseAt, clearAt, modelVersion: cal.modelVersion })
      : await rules.create({
          name: `Residual pattern of ${assetType} unlike its healthy reference (${cal.modelVersion})`,
          assetType,
          modelVersion: cal.modelVersion,
          detector: 'residual-mewma',
          params,
          raiseAt,
          clearAt,
          severity: 'major',
          escalateAfterMs: 30 * 60_000,
          escalateTo: 'critical',
        });
    console.log(
      `saved rule ${saved.id} (${saved.name}): raise at ${saved.raiseAt}, clear at ${saved.clearAt}, for ${saved.modelVersion}`,
    );
  } finally {
    await db.close();
  }
}

main().catch((err: Error) => {
  console.error(`alerting:calibrate: ${err.message}`);
  process.exit(1);
});
