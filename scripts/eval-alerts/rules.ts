/**
 * `EVAL_RULES=<file.json>` of `npm run eval:alerts`: rules of your own, scored next to the defaults.
 * Each entry is a default rule (`base`, its id) with fields replaced (`params` merged over the
 * default's), checked as the api checks a rule, so that a typo is an error, not a silently different run.
 */
import { readFileSync } from 'node:fs';
import type { AlertRule } from '../../apps/alerting/src/rules/alert-rule';
import { alertRuleInputSchema } from '../../apps/alerting/src/rules/alert-rule.schema';
import { DEFAULT_RULES } from '../../apps/alerting/src/rules/default-rules';

/** A rule with the name its row has in the report. */
export interface NamedRule {
  rule: AlertRule;
  name: string;
}

/** The rules of an EVAL_RULES file; every error names the file and the entry. */
export function readExtraRules(file: string): NamedRule[] {
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`EVAL_RULES=${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(entries)) throw new Error(`EVAL_RULES=${file}: expected a JSON array of rules`);
  return entries.map((entry: Record<string, unknown> | null, i) => {
    const { name, base, ...fields } = entry ?? {};
    const where = `EVAL_RULES=${file} [${i}]`;
    const from = DEFAULT_RULES.find((r) => r.id === base);
    if (typeof name !== 'string' || !from)
      throw new Error(`${where}: needs "name" and "base" (one of ${DEFAULT_RULES.map((r) => r.id).join(', ')})`);
    const { id: _id, ...baseFields } = from;
    const merged = {
      ...baseFields,
      ...fields,
      name,
      params: { ...from.params, ...((fields.params as Record<string, number>) ?? {}) },
    };
    const checked = alertRuleInputSchema.safeParse(merged);
    if (!checked.success)
      throw new Error(`${where}: ${checked.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    return { rule: { ...checked.data, id: `eval-${i}` } as AlertRule, name: `rule: ${name}` };
  });
}
