import type { AlertRule } from './alert-rule';
import { DEFAULT_RULES } from './default-rules';
import { RulesService } from './rules.service';

const base = DEFAULT_RULES.find((r) => r.id === 'default-divergence')!;
const rule = (id: string, scope: Partial<Pick<AlertRule, 'machineId' | 'assetType' | 'detector'>>): AlertRule => ({
  ...base,
  id,
  ...scope,
});

describe('rule scopes', () => {
  const pump = { id: 'p1', assetType: 'pump' };

  it('a rule covers its machine, every machine of its asset type, or every machine', () => {
    expect(RulesService.covers(rule('a', { machineId: 'p1' }), pump)).toBe(true);
    expect(RulesService.covers(rule('b', { machineId: 'p2' }), pump)).toBe(false);
    expect(RulesService.covers(rule('c', { assetType: 'pump' }), pump)).toBe(true);
    expect(RulesService.covers(rule('d', { assetType: 'motor' }), pump)).toBe(false);
    expect(RulesService.covers(rule('e', {}), pump)).toBe(true);
    expect(RulesService.covers(rule('f', { assetType: 'pump' }), { id: 'x', assetType: null })).toBe(false);
  });

  it('per detector the most specific covering scope applies, and only covering rules', () => {
    const rules = [
      rule('all', {}),
      rule('pumps', { assetType: 'pump' }),
      rule('motors', { assetType: 'motor' }),
      rule('other pump', { machineId: 'p2' }),
      rule('anomaly for all', { detector: 'anomaly-cusum' }),
    ];
    const ids = (machine: { id: string; assetType: string | null }) =>
      RulesService.applicable(rules, machine).map((r) => r.id);
    expect(ids(pump)).toEqual(['pumps', 'anomaly for all']);
    expect(ids({ id: 'p2', assetType: 'pump' })).toEqual(['other pump', 'anomaly for all']);
    expect(ids({ id: 'f1', assetType: 'fan' })).toEqual(['all', 'anomaly for all']);
    for (const machine of [pump, { id: 'p2', assetType: 'pump' }, { id: 'm1', assetType: 'motor' }])
      expect(RulesService.applicable(rules, machine).every((r) => RulesService.covers(r, machine))).toBe(true);
  });
});
