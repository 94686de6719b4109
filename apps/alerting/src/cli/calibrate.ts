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
import { loadConfig } from '@continuum/config';
import { AlertRulesRepository, Database, MachinesRepository, TwinPredictionsRepository } from '@continuum/persistence';
import { referenceToParams } from '../detectors/mewma';
import { parseCalibrateArgs } from './calibrate-args';
import { calibrateFromHistory } from '../rules/calibration';
import { RulesService } from '../rules/rules.service';

async function main(): Promise<void> {
  const { assetType, from, to, machineIds, modelVersion, tauMinutes, save, raiseAt, clearAt, holdMinutes, ruleId } =
    parseCalibrateArgs(process.argv.slice(2));
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
        machineIds,
        modelVersion,
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
    if (!save) return;
    const rules = new RulesService(new AlertRulesRepository(db.dataSource), config.alerting);
    if (!ruleId) {
      const defaults = await rules.storeDefaultsIfInForce();
      if (defaults.length)
        console.log(
          `alert_rules was empty, so the built-in defaults were in force: stored them (${defaults.length} rules) so that they keep applying next to the new one`,
        );
    }
    // The rule judges only the residuals of the model the reference was fitted on.
    const saved = ruleId
      ? await rules.update(ruleId, { params, raiseAt, clearAt, modelVersion: cal.modelVersion })
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
