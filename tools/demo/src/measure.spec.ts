import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoRoot, unitCommand } from './cluster.js';
import { longestPause, outageSince, parseProbe, parseWrk, transitionAt } from './measure.js';

describe('outageSince', () => {
  const rec = (t: number, body?: string) => (body ? { t, ms: 2, body } : { t, ms: 1000, err: 'TIMEOUT' });
  const records = [rec(0, 'rs1'), rec(20, 'rs2'), rec(40), rec(1060), rec(2080, 'rs2'), rec(2100, 'rs2')];

  it('measures the client outage between answered requests (by send time) and the failures after the event', () => {
    const o = outageSince(records, 30);
    expect(o.failures).toBe(2);
    expect(o.longestGap).toBe(2080 - 20);
    expect([o.gapFrom, o.gapTo]).toEqual([20, 2080]);
    expect(o.lastFailureAfter).toBe(1060 - 30);
    expect(o.split).toEqual({ rs2: 2 });
    expect(o.requests).toBe(4);
  });

  it('sees no outage when every request is answered', () => {
    const ok = [rec(0, 'rs1'), rec(20, 'rs1'), rec(40, 'rs2')];
    expect(outageSince(ok, 10)).toMatchObject({ failures: 0, lastFailureAfter: 0, longestGap: 20 });
  });

  it('does not count a slow answer as outage', () => {
    const slow = [rec(0, 'rs1'), { t: 20, ms: 900, body: 'rs2' }, rec(40, 'rs1')];
    expect(outageSince(slow, 10).longestGap).toBe(20);
  });

  it('takes answers in the order they were sent, not the order they completed', () => {
    // Printed as they complete: the one sent at 50 answered last, after those sent up to 900.
    const done = [rec(0, 'rs1'), ...[100, 200, 300, 400, 500, 600, 700, 800, 900].map((t) => rec(t, 'rs2')), { t: 50, ms: 950, body: 'rs1' }, rec(1000, 'rs2')];
    expect(outageSince(done, 10)).toMatchObject({ longestGap: 100, failures: 0 });
  });

  it('reads the probe output, skipping lines that are not records', () => {
    expect(parseProbe('noise\n{"t":1,"ms":2,"body":"rs1"}\n')).toEqual([{ t: 1, ms: 2, body: 'rs1' }]);
  });
});

describe('longestPause', () => {
  it('is the longest time between two sends from `since` on, whatever their outcome', () => {
    const records = [{ t: 0, ms: 1, body: 'rs1' }, { t: 500, ms: 1000, err: 'TIMEOUT' }, { t: 520, ms: 1, body: 'rs1' }, { t: 540, ms: 1, body: 'rs2' }];
    expect(longestPause(records, 0)).toBe(500);
    expect(longestPause(records, 10)).toBe(20);
    expect(longestPause([], 0)).toBe(0);
  });
});

describe('transitionAt', () => {
  const line = (time: string, to: string) => JSON.stringify({ level: 30, time, msg: 'vrrp transition', instance: 'vi_1', to });
  const log = ['starting', line('2026-11-22T10:00:00.100Z', 'master'), line('2026-11-22T10:00:05.000Z', 'backup'), line('2026-11-22T10:00:09.250Z', 'master')].join('\n');

  it('finds the first transition to a state at or after a time, from pino ISO times', () => {
    expect(transitionAt(log, 'master', Date.parse('2026-11-22T10:00:01Z'))).toBe(Date.parse('2026-11-22T10:00:09.250Z'));
    expect(transitionAt(log, 'backup', 0)).toBe(Date.parse('2026-11-22T10:00:05.000Z'));
  });

  it('is null when the log has none', () => {
    expect(transitionAt(log, 'fault', 0)).toBeNull();
    expect(transitionAt('', 'master', 0)).toBeNull();
  });
});

describe('parseWrk', () => {
  it('takes requests/s and counts socket errors and non-2xx answers', () => {
    const text = [
      'Running 5s test @ http://10.99.0.100/',
      '  1 threads and 4 connections',
      '  5321 requests in 5.00s, 1.10MB read',
      '  Socket errors: connect 0, read 2, write 0, timeout 1',
      '  Non-2xx or 3xx responses: 4',
      'Requests/sec:   1064.20',
    ].join('\n');
    expect(parseWrk(text)).toEqual({ requestsPerSecond: 1064.2, requests: 5321, errors: 7 });
  });

  it('refuses output without a summary', () => {
    expect(() => parseWrk('unable to connect to 10.99.0.100:80 Connection refused')).toThrow('wrk printed no summary');
  });
});

describe('unitCommand', () => {
  it("runs the unit's ExecStart with this checkout and the node's demo config", () => {
    const unit = readFileSync(`${repoRoot}deploy/systemd/fulcrum-vrrp-agent.service`, 'utf8');
    const { argv, env } = unitCommand(unit, 'vrrp-agent', 'director2', '/repo/');
    expect(argv).toEqual(['nice', '-n', '-10', process.execPath, '/repo/apps/vrrp-agent/dist/main.mjs', '--config', '/repo/deploy/demo/director2/vrrp-agent.yaml']);
    expect(env).toEqual({ NODE_ENV: 'production' });
  });

  it('runs a unit without Nice= as it is', () => {
    const unit = readFileSync(`${repoRoot}deploy/systemd/fulcrum-health-checker.service`, 'utf8');
    expect(unitCommand(unit, 'health-checker', 'director1', '/repo/').argv[0]).toBe(process.execPath);
  });
});
