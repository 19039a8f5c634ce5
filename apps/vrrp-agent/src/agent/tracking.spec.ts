import type { TrackedScript } from '@fulcrum/schemas';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RiseFall, ScriptTracker, runScript, trackedContribution, trackedWeight } from './tracking.js';

const script = (over: Partial<TrackedScript> = {}): TrackedScript => ({
  name: 'chk',
  path: '/bin/sh',
  args: ['-c', 'exit 0'],
  interval: 1,
  weight: 0,
  reverse: false,
  rise: 1,
  fall: 1,
  initFail: false,
  ...over,
});

describe('tracked weights (keepalived semantics)', () => {
  it('adds a positive weight while up, a negative one while down, and reverse swaps them', () => {
    expect(trackedContribution({ ok: true, weight: 10 })).toBe(10);
    expect(trackedContribution({ ok: false, weight: 10 })).toBe(0);
    expect(trackedContribution({ ok: true, weight: -20 })).toBe(0);
    expect(trackedContribution({ ok: false, weight: -20 })).toBe(-20);
    expect(trackedContribution({ ok: true, weight: -20, reverse: true })).toBe(-20);
    expect(trackedContribution({ ok: false, weight: 10, reverse: true })).toBe(10);
    expect(trackedWeight([{ ok: true, weight: 10 }, { ok: false, weight: -30 }, { ok: false, weight: 5 }])).toBe(-20);
  });

  it('changes state only after rise successes or fall failures in a row', () => {
    const rf = new RiseFall(true, 2, 3);
    expect([rf.feed(false), rf.feed(false), rf.feed(true), rf.feed(false), rf.feed(false)]).toEqual([false, false, false, false, false]);
    expect(rf.feed(false)).toBe(true);
    expect(rf.ok).toBe(false);
    expect([rf.feed(true), rf.feed(false), rf.feed(true)]).toEqual([false, false, false]);
    expect(rf.feed(true)).toBe(true);
    expect(rf.ok).toBe(true);
  });
});

describe('scripts', () => {
  afterEach(() => vi.useRealTimers());

  it('reports success, the exit code, a timeout and a missing program', async () => {
    expect(await runScript(script())).toEqual({ ok: true, why: 'script chk succeeded' });
    expect(await runScript(script({ args: ['-c', 'exit 3'] }))).toEqual({ ok: false, why: 'script chk exited with 3' });
    expect(await runScript(script({ args: ['-c', 'sleep 5'], interval: 0.2 }))).toEqual({ ok: false, why: 'script chk timed out after 200 ms' });
    expect((await runScript(script({ path: '/nonexistent/check' }))).why).toMatch(/could not run: ENOENT/);
  });

  it('runs every interval and reports each rise/fall change once', async () => {
    vi.useFakeTimers();
    const results = [false, false, false, true, true];
    const changes: [boolean, string][] = [];
    const t = new ScriptTracker(script({ fall: 2, rise: 2 }), (ok, why) => changes.push([ok, why]), async () => {
      const ok = results.shift() ?? true;
      return { ok, why: ok ? 'fine' : 'broken' };
    });
    t.start();
    for (let k = 0; k < 6; k += 1) await vi.advanceTimersByTimeAsync(1000);
    t.stop();
    expect(changes).toEqual([
      [false, 'broken'],
      [true, 'fine'],
    ]);
    expect(t.ok).toBe(true);
  });

  it('starts failed with initFail', () => {
    expect(new ScriptTracker(script({ initFail: true }), () => undefined).ok).toBe(false);
  });
});
