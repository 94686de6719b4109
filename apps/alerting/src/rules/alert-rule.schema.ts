import { z } from 'zod';
import { createDetector } from '../detectors/detectors';
import { DETECTORS } from './alert-rule';

const severity = z.enum(['critical', 'major', 'minor', 'warning']);
const duration = z.number().finite().min(0);

/** A new rule, as the api passes it to {@link RulesService.create}. */
export const alertRuleInputSchema = z
  .object({
    name: z.string().min(1).max(200),
    machineId: z.string().min(1).nullable().default(null),
    assetType: z.string().min(1).nullable().default(null),
    modelVersion: z.string().min(1).nullable().default(null),
    detector: z.enum(DETECTORS),
    sensors: z.array(z.string().min(1)).min(1).nullable().default(null),
    params: z.record(z.string(), z.number().finite()).default({}),
    raiseAt: z.number().finite(),
    clearAt: z.number().finite(),
    severity,
    minDurationMs: duration.default(0),
    escalateAfterMs: duration.positive().nullable().default(null),
    escalateTo: severity.nullable().default(null),
    autoClearMs: duration.default(600_000),
    createWorkOrder: z.boolean().default(false),
    enabled: z.boolean().default(true),
  })
  .strict()
  .refine((r) => r.clearAt < r.raiseAt, { message: 'clearAt must be below raiseAt (hysteresis)', path: ['clearAt'] })
  .refine((r) => !(r.machineId && r.assetType), {
    message: 'a rule applies to one machine or to an asset type, not both',
    path: ['assetType'],
  })
  .refine((r) => (r.escalateAfterMs === null) === (r.escalateTo === null), {
    message: 'escalateAfterMs and escalateTo go together',
    path: ['escalateTo'],
  })
  .superRefine((r, ctx) => {
    // A detector the rule could not build (a residual-mewma reference that is incomplete, say) is a
    // bad request now, not an error on every twin update later.
    try {
      createDetector(r);
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message, path: ['params'] });
    }
  });
export type AlertRuleInput = z.input<typeof alertRuleInputSchema>;
