import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_RULES } from '../../apps/alerting/src/rules/default-rules';
import { readExtraRules } from '../../scripts/eval-alerts/rules';

describe('eval:alerts EVAL_RULES files', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'eval-rules-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = (text: string) => {
    const f = path.join(dir, 'rules.json');
    writeFileSync(f, text);
    return f;
  };

  it('builds each rule from a default one, params merged over its own', () => {
    const divergence = DEFAULT_RULES.find((r) => r.id === 'default-divergence')!;
    const [a, b] = readExtraRules(
      file(
        JSON.stringify([
          { name: 'k 2', base: 'default-divergence', params: { k: 2 } },
          { name: 'anomaly, hold 1 h', base: 'default-anomaly', minDurationMs: 0, params: { holdMinutes: 60 } },
        ]),
      ),
    );
    expect(a.name).toBe('rule: k 2');
    expect(a.rule).toMatchObject({ id: 'eval-0', detector: 'residual-cusum', raiseAt: divergence.raiseAt });
    expect(a.rule.params).toEqual({ ...divergence.params, k: 2 });
    expect(b.rule).toMatchObject({ id: 'eval-1', detector: 'anomaly-cusum' });
    expect(b.rule.params.holdMinutes).toBe(60);
  });

  it('names the file and the entry in every error', () => {
    expect(() => readExtraRules(path.join(dir, 'missing.json'))).toThrow(/EVAL_RULES=.*missing\.json: ENOENT/);
    expect(() => readExtraRules(file('{"name": "x"'))).toThrow(/EVAL_RULES=.*rules\.json: .*JSON/);
    expect(() => readExtraRules(file('{"name": "x"}'))).toThrow('expected a JSON array of rules');
    expect(() => readExtraRules(file('[{"name": "x", "base": "no-such-rule"}]'))).toThrow(
      /\[0\]: needs "name" and "base" \(one of default-divergence/,
    );
    expect(() => readExtraRules(file('[null]'))).toThrow('[0]: needs "name" and "base"');
    // Checked as the api checks a rule: hysteresis needs clearAt below raiseAt.
    expect(() => readExtraRules(file('[{"name": "x", "base": "default-divergence", "clearAt": 20}]'))).toThrow(
      '[0]: clearAt: clearAt must be below raiseAt (hysteresis)',
    );
  });
});
