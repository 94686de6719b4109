import { parseCalibrateArgs } from './calibrate-args';

const period = ['--asset-type', 'pump', '--from', '2026-11-01', '--to', '2026-11-15'];

describe('alerting:calibrate command line', () => {
  it('reads the options, with the documented defaults', () => {
    expect(parseCalibrateArgs(period)).toEqual({
      assetType: 'pump',
      from: new Date('2026-11-01'),
      to: new Date('2026-11-15'),
      machineIds: undefined,
      modelVersion: undefined,
      tauMinutes: 60,
      save: false,
      raiseAt: 80,
      clearAt: 32,
      holdMinutes: 30,
      ruleId: undefined,
    });
    const args = parseCalibrateArgs([
      ...period,
      ...['--machines', 'p1,p2,', '--model-version', 'pump@v3', '--tau', '30', '--save'],
      ...['--raise', '50', '--hold', '0', '--rule', 'r1'],
    ]);
    expect(args).toMatchObject({ machineIds: ['p1', 'p2'], modelVersion: 'pump@v3', tauMinutes: 30, save: true });
    expect(args).toMatchObject({ raiseAt: 50, clearAt: 20, holdMinutes: 0, ruleId: 'r1' });
  });

  it('says which option is wrong', () => {
    expect(() => parseCalibrateArgs(period.slice(2))).toThrow(/--asset-type is required\nusage:/);
    expect(() => parseCalibrateArgs([...period.slice(0, 4), '--to', 'soon'])).toThrow(
      '--to needs a time (ISO 8601), got soon',
    );
    expect(() => parseCalibrateArgs([...period.slice(0, 4), '--to', '2026-10-01'])).toThrow(
      '--from must be before --to',
    );
    expect(() => parseCalibrateArgs([...period, '--tau', '0'])).toThrow('--tau must be a positive number, got 0');
    expect(() => parseCalibrateArgs([...period, '--raise', '10', '--clear', '10'])).toThrow(
      '--clear must be below --raise (hysteresis)',
    );
    expect(() => parseCalibrateArgs([...period, '--hold', 'x'])).toThrow('--hold must be minutes ≥ 0, got x');
    expect(() => parseCalibrateArgs([...period, '--frobnicate'])).toThrow(/Unknown option '--frobnicate'/);
  });
});
