import { describe, expect, it } from 'vitest';
import { runRound, type CheckSpec } from './run-check.js';
import type { CheckResult, Endpoint } from './types.js';

const url = (path: string): CheckSpec => ({ type: 'http', path, timeoutMs: 1000 });
const target = { address: '10.0.0.1', port: 80 };

/** A probe double answering from a table by path, recording what ran. */
function table(results: Record<string, CheckResult>) {
  const ran: string[] = [];
  const run = async (_t: Endpoint, spec: CheckSpec): Promise<CheckResult> => {
    const path = spec.type === 'http' ? spec.path : spec.type;
    ran.push(path);
    return results[path] as CheckResult;
  };
  return { ran, run };
}

describe('runRound', () => {
  it('runs every URL in order and sums the latency when all pass', async () => {
    const t = table({ '/a': { ok: true, latencyMs: 2 }, '/b': { ok: true, latencyMs: 3 } });
    expect(await runRound(target, [url('/a'), url('/b')], undefined, t.run)).toEqual({ ok: true, latencyMs: 5 });
    expect(t.ran).toEqual(['/a', '/b']);
  });

  it('stops at the first failing URL and reports it', async () => {
    const t = table({
      '/a': { ok: true, latencyMs: 2 },
      '/b': { ok: false, reason: 'status', message: 'HTTP 503, expected 200-299', latencyMs: 4 },
      '/c': { ok: true, latencyMs: 1 },
    });
    expect(await runRound(target, [url('/a'), url('/b'), url('/c')], undefined, t.run)).toEqual({
      ok: false,
      reason: 'status',
      message: 'HTTP 503, expected 200-299',
      latencyMs: 6,
    });
    expect(t.ran).toEqual(['/a', '/b']);
  });

  it('fails a check with no probe instead of calling it up', async () => {
    expect(await runRound(target, [])).toMatchObject({ ok: false, reason: 'error', message: 'the check has no probe' });
  });
});
