import { AlertTracker, type LifecycleAction, type LifecyclePolicy } from './alert-tracker';

const MIN = 60_000;

/** A tracker with a fake clock: `at(minutes, value)` feeds a value, `tickAt(minutes)` lets time pass. */
function newTracker(overrides: Partial<LifecyclePolicy> = {}) {
  const policy: LifecyclePolicy = {
    raiseAt: 10,
    clearAt: 4,
    severity: 'major',
    minDurationMs: 0,
    escalateAfterMs: null,
    escalateTo: null,
    autoClearMs: 0,
    ...overrides,
  };
  const sut = new AlertTracker(policy);
  const log: (LifecycleAction & { minute: number })[] = [];
  const record = (minute: number, actions: LifecycleAction[]) => log.push(...actions.map((a) => ({ ...a, minute })));
  return {
    sut,
    log,
    types: () => log.filter((a) => a.type !== 'touch').map((a) => `${a.minute}:${a.type}`),
    at: (minute: number, value: number) => record(minute, sut.observe(value, minute * MIN)),
    tickAt: (minute: number) => record(minute, sut.tick(minute * MIN)),
  };
}

describe('alert lifecycle (fake clock)', () => {
  it('a raise that could not be stored is raised again at the next value while the condition holds', () => {
    const t = newTracker({ raiseAt: 10, clearAt: 4 });
    t.at(0, 12);
    expect(t.types()).toEqual(['0:raise']);
    t.sut.raiseFailed(); // the database refused the insert
    t.at(1, 13);
    t.sut.adopt({ id: 'a1', severity: 'major', raisedAt: 1 * MIN }); // stored this time
    t.at(2, 14);
    t.sut.raiseFailed(); // no effect on a stored alert
    t.at(3, 15);
    expect(t.types()).toEqual(['0:raise', '1:raise']);

    // Without it, the pending alert blocks every later raise: the alert would be lost.
    const lost = newTracker({ raiseAt: 10, clearAt: 4 });
    for (let minute = 0; minute < 10; minute++) lost.at(minute, 12 + minute);
    expect(lost.types()).toEqual(['0:raise']);
  });

  it('hysteresis: a value oscillating around the raise level raises once and does not flap', () => {
    const t = newTracker({ raiseAt: 10, clearAt: 4 });
    for (let minute = 0; minute < 120; minute++) t.at(minute, minute % 2 ? 10.5 : 9.5);
    expect(t.types()).toEqual(['1:raise']);

    // Without hysteresis (clear at the raise level, clear at once) the same signal flaps.
    const flappy = newTracker({ raiseAt: 10, clearAt: 10 });
    for (let minute = 0; minute < 120; minute++) flappy.at(minute, minute % 2 ? 9.5 : 10.5);
    expect(flappy.types().filter((x) => x.endsWith('raise')).length).toBe(60);
  });

  it('raises only after the minimum duration', () => {
    const t = newTracker({ minDurationMs: 5 * MIN });
    t.at(0, 12);
    t.at(3, 12);
    t.at(4, 2); // ends before 5 minutes: nothing
    t.at(10, 12);
    t.at(14, 12);
    t.at(15, 12);
    expect(t.types()).toEqual(['15:raise']);
  });

  it('escalates when the condition persists for the escalation time, once', () => {
    const t = newTracker({ escalateAfterMs: 30 * MIN, escalateTo: 'critical', autoClearMs: 10 * MIN });
    t.at(0, 12);
    t.tickAt(29);
    t.at(29.5, 11);
    t.tickAt(30);
    t.tickAt(31);
    t.at(32, 15);
    expect(t.types()).toEqual(['0:raise', '30:escalate']);
    expect(t.sut.alert?.severity).toBe('critical');
  });

  it('does not escalate once the condition has ended', () => {
    const t = newTracker({ escalateAfterMs: 30 * MIN, escalateTo: 'critical', autoClearMs: 60 * MIN });
    t.at(0, 12);
    t.at(20, 1);
    t.tickAt(40);
    expect(t.types()).toEqual(['0:raise']);
  });

  it('auto-clears after N minutes without recurrence, measured from the end of the condition', () => {
    const t = newTracker({ autoClearMs: 10 * MIN });
    t.at(0, 12);
    t.at(5, 3); // condition ends at 5
    t.tickAt(14);
    expect(t.types()).toEqual(['0:raise']);
    t.tickAt(15);
    expect(t.types()).toEqual(['0:raise', '15:clear']);
    t.tickAt(30);
    expect(t.types()).toEqual(['0:raise', '15:clear']);
  });

  it('merges repeated triggers into the unresolved alert instead of raising duplicates', () => {
    const t = newTracker({ autoClearMs: 10 * MIN });
    t.at(0, 12);
    t.at(1, 20);
    t.at(2, 2);
    t.at(8, 14); // recurs before the auto-clear: a retrigger
    t.at(9, 2);
    t.at(12, 30);
    t.at(13, 2);
    t.tickAt(23);
    expect(t.types()).toEqual(['0:raise', '8:retrigger', '12:retrigger', '23:clear']);
    expect(t.log.filter((a) => a.type === 'touch').map((a) => a.minute)).toEqual([1]);
  });

  it('after an operator resolves, waits for the condition to end and start again', () => {
    const t = newTracker();
    t.at(0, 12);
    t.sut.forget();
    t.at(1, 12);
    t.at(2, 12);
    t.at(3, 1);
    t.at(4, 12);
    expect(t.types()).toEqual(['0:raise', '4:raise']);
  });
});
