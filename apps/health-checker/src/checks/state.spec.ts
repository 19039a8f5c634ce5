import { describe, expect, it } from 'vitest';
import { CheckState, type CheckSchedule } from './state.js';
import type { CheckResult } from './types.js';

const base: CheckSchedule = { intervalMs: 1000, retry: 0, delayBeforeRetryMs: 100, warmupMs: 0, alpha: false, rise: 1, fall: 1 };
const ok: CheckResult = { ok: true, latencyMs: 1 };
const bad: CheckResult = { ok: false, reason: 'refused', message: 'connection refused by 10.0.0.1:80', latencyMs: 1 };

/** Feeds results at the times the state asks for; returns the state after each and when the next probe was due. */
function drive(schedule: Partial<CheckSchedule>, results: string): { states: string; delays: number[]; transitions: string[] } {
  const s = new CheckState({ ...base, ...schedule }, () => 0.5);
  let now = s.start(0);
  const states: string[] = [];
  const delays: number[] = [];
  const transitions: string[] = [];
  for (const c of results) {
    const step = s.record(c === '+' ? ok : bad, now);
    delays.push(step.nextAt - now);
    if (step.transition) transitions.push(`${step.transition.to}@${step.transition.at}:${step.transition.reason}`);
    now = step.nextAt;
    states.push(s.state === 'up' ? 'U' : 'D');
  }
  return { states: states.join(''), delays, transitions };
}

describe('CheckState (keepalived checker semantics)', () => {
  it.each([
    // name, schedule, results (+ ok, - failed), state after each
    ['without alpha a server starts up and one failure takes it down', {}, '-+', 'DU'],
    ['with alpha a server starts down and one success brings it up', { alpha: true }, '+-', 'UD'],
    ['alpha with rise 3 needs three successes in a row', { alpha: true, rise: 3 }, '++-+++', 'DDDDDU'],
    ['fall 2 needs two failed rounds in a row', { fall: 2 }, '-+--', 'UUUD'],
    ['retry 2: a failure only counts after two more failed attempts', { retry: 2 }, '---', 'UUD'],
    ['retry: a success among the retries keeps it up and resets the retries', { retry: 2 }, '--+---', 'UUUUUD'],
    ['retry with fall 2: two rounds of 1 + retry failures', { retry: 1, fall: 2 }, '----', 'UUUD'],
    ['retries do not apply while down', { retry: 3, alpha: true }, '-+', 'DU'],
  ])('%s', (_name, schedule, results, expected) => {
    expect(drive(schedule, results).states).toBe(expected);
  });

  it('waits delay_before_retry between retries and the interval between rounds', () => {
    const r = drive({ retry: 2, delayBeforeRetryMs: 300, intervalMs: 5000 }, '+---+');
    expect(r.delays).toEqual([5000, 300, 300, 5000, 5000]);
  });

  it('keeps rounds an interval apart from when each was due, however late its probe ended', () => {
    const s = new CheckState(base);
    // Due at 0, answered at 250: the next round is still due at 1000, not 1250.
    expect(s.record(ok, 250, 0).nextAt).toBe(1000);
    expect(s.record(bad, 1040, 1000).nextAt).toBe(2000);
    // A probe that overran its interval (a 1.5 s timeout) waits a whole interval from its end.
    expect(s.record(bad, 3500, 2000).nextAt).toBe(4500);
  });

  it('records each transition with its time and the failure reason', () => {
    const r = drive({ retry: 1, delayBeforeRetryMs: 300 }, '+--++');
    expect(r.transitions).toEqual(['down@1300:refused', 'up@2300:rise']);
  });

  it('keeps the failure message in the transition', () => {
    const s = new CheckState(base);
    expect(s.record(bad, 10).transition).toEqual({ from: 'up', to: 'down', at: 10, reason: 'refused', message: 'connection refused by 10.0.0.1:80' });
  });

  it('spreads the first probe over the warmup window', () => {
    expect(new CheckState({ ...base, warmupMs: 4000 }, () => 0.25).start(100)).toBe(1100);
    expect(new CheckState({ ...base, warmupMs: 0 }, () => 0.99).start(100)).toBe(100);
  });

  it('remembers the dynamic weight of the latest success and forgets it when down', () => {
    const s = new CheckState(base);
    s.record({ ok: true, latencyMs: 1, weight: 8 }, 0);
    expect(s.weight).toBe(8);
    s.record(bad, 1000);
    expect(s.weight).toBeUndefined();
    s.record({ ok: true, latencyMs: 1, weightDelta: -3 }, 2000);
    expect(s.weightDelta).toBe(-3);
  });

  it.each([
    [{ intervalMs: 0 }, /intervalMs must be a positive number/],
    [{ retry: -1 }, /retry must be an integer >= 0/],
    [{ rise: 0 }, /rise must be an integer >= 1/],
    [{ fall: 1.5 }, /fall must be an integer >= 1/],
    [{ warmupMs: -5 }, /warmupMs must be >= 0/],
  ])('refuses a bad schedule %j', (bad, message) => {
    expect(() => new CheckState({ ...base, ...bad })).toThrow(message);
  });
});
