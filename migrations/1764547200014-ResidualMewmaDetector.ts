import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alert rules may use the `residual-mewma` detector (issue 11: drifts the twin's filter absorbs
 * sensor by sensor show as a pattern across sensors; docs/alerting.md). The detector's reference
 * lives in the rule's params like any other param; it belongs to the model whose residuals it was
 * fitted on, so a rule can be kept to one model version (`model_version`, null: any).
 */
export class ResidualMewmaDetector1764547200014 implements MigrationInterface {
  name = 'ResidualMewmaDetector1764547200014';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_detector_check`);
    await q.query(`
      ALTER TABLE alert_rules ADD CONSTRAINT alert_rules_detector_check
        CHECK (detector IN ('residual-cusum', 'residual-mewma', 'anomaly-cusum', 'forecast'))`);
    await q.query(`ALTER TABLE alert_rules ADD COLUMN model_version text CHECK (model_version <> '')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE alert_rules DROP COLUMN model_version`);
    await q.query(`DELETE FROM alert_rules WHERE detector = 'residual-mewma'`);
    await q.query(`ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_detector_check`);
    await q.query(`
      ALTER TABLE alert_rules ADD CONSTRAINT alert_rules_detector_check
        CHECK (detector IN ('residual-cusum', 'anomaly-cusum', 'forecast'))`);
  }
}
