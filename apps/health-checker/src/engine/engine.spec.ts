import { virtualService } from '@fulcrum/schemas';
import type { VirtualService } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import type { CheckResult, CheckSpec, Endpoint, ProbeContext } from '../checks/index.js';
import { FakeClock } from '../testing/index.js';
import { HealthEngine, type HealthReport } from './engine.js';
import { serverTargets } from './targets.js';

type Behaviour = 'up' | 'refused' | 'hang' | { weightExit: number } | { slowMs: number };

/** Probes answered from a table by real-server address; 'hang' waits for the probe's own deadline. */
function fakeRunner(clock: FakeClock, table: Map<string, Behaviour>) {
  const started: { address: string; at: number }[] = [];
  const aborted: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const run = (target: Endpoint, probes: readonly CheckSpec[], ctx: ProbeContext): Promise<CheckResult> => {
    started.push({ address: target.address, at: clock.now() });
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    const finish = (r: CheckResult): CheckResult => {
      running -= 1;
      return r;
    };
    const b = table.get(target.address) ?? 'up';
    if (b === 'up') return Promise.resolve(finish({ ok: true, latencyMs: 0.2 }));
    if (b === 'refused') return Promise.resolve(finish({ ok: false, reason: 'refused', message: `connection refused by ${target.address}`, latencyMs: 0.1 }));
    if (typeof b === 'object' && 'slowMs' in b) {
      return new Promise((resolve) => clock.setTimer(() => resolve(finish({ ok: true, latencyMs: b.slowMs })), b.slowMs));
    }
    if (typeof b === 'object') return Promise.resolve(finish({ ok: true, latencyMs: 1, weight: b.weightExit }));
    const spec = probes[0] as { timeoutMs: number };
    return new Promise((resolve) => {
      // A check keeps one signal for its life: a probe that timed out must stop listening to it.
      const onAbort = (): void => {
        clock.clearTimer(t);
        aborted.push(target.address);
        resolve(finish({ ok: false, reason: 'aborted', message: 'cancelled', latencyMs: 0 }));
      };
      const t = clock.setTimer(() => {
        ctx.signal?.removeEventListener('abort', onAbort);
        resolve(finish({ ok: false, reason: 'timeout', message: 'no answer', latencyMs: spec.timeoutMs }));
      }, spec.timeoutMs);
      ctx.signal?.addEventListener('abort', onAbort);
    });
  };
  return { run, started, aborted, maxRunning: () => maxRunning };
}

/** A deterministic random source (mulberry32), so spreading is repeatable. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function service(id: string, servers: string[], check: Record<string, unknown>, extra: Record<string, unknown> = {}): VirtualService {
  return virtualService.parse({
    kind: 'virtual-service',
    id,
    match: { kind: 'address', protocol: 'tcp', address: '10.0.0.100', port: 80 },
    healthChecks: [check],
    realServers: servers.map((address) => ({ address, port: 80, weight: 5 })),
    ...extra,
  });
}

const tcp = (extra: Record<string, unknown> = {}) => ({ type: 'tcp', interval: 1, connectTimeout: 0.5, retries: 0, warmup: 0, ...extra });

function setup(opts: { maxInFlight?: number } = {}) {
  const clock = new FakeClock();
  const table = new Map<string, Behaviour>();
  const runner = fakeRunner(clock, table);
  const reports: (HealthReport & { at: number })[] = [];
  const removed: string[] = [];
  const engine = new HealthEngine({
    clock,
    random: seeded(7),
    run: runner.run,
    onReport: (r) => reports.push({ ...r, at: clock.now() }),
    onRemoved: (vs, rs) => removed.push(`${vs}/${rs.address}`),
    ...opts,
  });
  const load = (...services: VirtualService[]): void => engine.setTargets(serverTargets(services).targets);
  return { clock, table, runner, reports, removed, engine, load };
}

describe('HealthEngine', () => {
  it('reports each server once its first check is in, then only on changes', async () => {
    const { clock, reports, load } = setup();
    load(service('web', ['10.0.0.1', '10.0.0.2'], tcp()));
    await clock.advance(5000);
    expect(reports.map((r) => [r.realServer.address, r.previous, r.state])).toEqual([
      ['10.0.0.1', 'unknown', 'up'],
      ['10.0.0.2', 'unknown', 'up'],
    ]);
    expect(reports[0]).toMatchObject({ virtualService: 'web', checks: [{ type: 'tcp', ok: true }], reason: '10.0.0.1:80: the tcp check passes' });
  });

  it('marks a server down at the first failed round after its retries, naming the check and its error', async () => {
    const { clock, table, reports, load } = setup();
    load(service('web', ['10.0.0.1'], tcp({ retries: 2, delayBeforeRetry: 0.2 })));
    await clock.advance(10);
    table.set('10.0.0.1', 'refused');
    // Next probe at 1000 fails, retries at 1200 and 1400: down at 1400.
    await clock.advance(1380);
    expect(reports.at(-1)?.state).toBe('up');
    await clock.advance(30);
    const down = reports.at(-1);
    expect(down).toMatchObject({
      state: 'down',
      previous: 'up',
      at: 1400,
      checks: [{ type: 'tcp', ok: false, message: 'refused: connection refused by 10.0.0.1' }],
      reason: '10.0.0.1:80: tcp check failed (refused): connection refused by 10.0.0.1',
    });
  });

  it('brings a server back after rise successful rounds', async () => {
    const { clock, table, reports, load } = setup();
    table.set('10.0.0.1', 'refused');
    load(service('web', ['10.0.0.1'], tcp({ rise: 3 })));
    await clock.advance(10);
    expect(reports.at(-1)).toMatchObject({ state: 'down', previous: 'unknown' });
    table.set('10.0.0.1', 'up');
    await clock.advance(2500); // successes at 1000, 2000
    expect(reports.at(-1)?.state).toBe('down');
    await clock.advance(600); // third at 3000
    expect(reports.at(-1)).toMatchObject({ state: 'up', previous: 'down', at: 3000 });
  });

  it('starts servers of an alpha service down until their checks pass', async () => {
    const { clock, reports, load } = setup();
    load(service('web', ['10.0.0.1'], tcp({ rise: 2 }), { alpha: true }));
    await clock.advance(10);
    expect(reports).toMatchObject([{ state: 'down', previous: 'unknown' }]);
    await clock.advance(1000);
    expect(reports.at(-1)).toMatchObject({ state: 'up', previous: 'down' });
  });

  it('scatters the first checks of many servers over the warmup instead of firing them together', async () => {
    const { clock, runner, load } = setup();
    const addrs = Array.from({ length: 1000 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
    load(service('big', addrs, tcp({ warmup: 1 })));
    await clock.advance(999);
    expect(runner.started).toHaveLength(1000);
    const perTenth = Array.from({ length: 10 }, (_, i) => runner.started.filter((s) => s.at >= i * 100 && s.at < (i + 1) * 100).length);
    for (const n of perTenth) expect(n).toBeGreaterThan(60);
    for (const n of perTenth) expect(n).toBeLessThan(140);
  });

  it('keeps every other check on time while one waits for its timeout', async () => {
    const { clock, table, runner, load } = setup();
    table.set('10.0.0.9', 'hang');
    load(service('web', ['10.0.0.1', '10.0.0.9'], tcp({ connectTimeout: 3, interval: 1 })));
    await clock.advance(5500);
    const times = (a: string) => runner.started.filter((s) => s.address === a).map((s) => s.at);
    expect(times('10.0.0.1')).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    // The hanging one starts its next round an interval after its timeout, as keepalived does.
    expect(times('10.0.0.9')).toEqual([0, 4000]);
  });

  it('starts checks an interval apart even when each answer takes a while (no drift)', async () => {
    const { clock, table, runner, load } = setup();
    table.set('10.0.0.1', { slowMs: 300 });
    load(service('web', ['10.0.0.1'], tcp({ interval: 1, connectTimeout: 0.9 })));
    await clock.advance(4500);
    // 10,000 servers at 1 s must mean 10,000 checks/s: answers taking 300 ms do not stretch the period to 1.3 s.
    expect(runner.started.map((s) => s.at)).toEqual([0, 1000, 2000, 3000, 4000]);
  });

  it('runs at most maxInFlight probes; due checks wait their turn in order', async () => {
    const { clock, table, runner, engine, load } = setup({ maxInFlight: 2 });
    const addrs = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'];
    for (const a of addrs) table.set(a, 'hang');
    load(service('web', addrs, tcp({ connectTimeout: 2 })));
    await clock.advance(100);
    expect(engine.running).toBe(2);
    expect(runner.started).toHaveLength(2);
    await clock.advance(2000);
    // The two that waited start the moment the first two time out, not a whole interval later.
    expect(runner.started.map((s) => s.at)).toEqual([0, 0, 2000, 2000]);
    expect(new Set(runner.started.map((s) => s.address)).size).toBe(4);
    expect(runner.maxRunning()).toBe(2);
  });

  it('follows the desired state: new servers start, gone ones stop with their probes aborted, unchanged ones keep their state', async () => {
    const { clock, table, runner, reports, removed, load } = setup();
    table.set('10.0.0.2', 'hang');
    load(service('web', ['10.0.0.1', '10.0.0.2'], tcp({ connectTimeout: 0.9 })));
    await clock.advance(1500);
    const before = reports.length;
    load(service('web', ['10.0.0.1', '10.0.0.3'], tcp({ connectTimeout: 0.9 })));
    expect(runner.aborted).toEqual(['10.0.0.2']);
    expect(removed).toEqual(['web/10.0.0.2']);
    await clock.advance(3000);
    // 10.0.0.1 was not restarted (no new first report); 10.0.0.3 reported once; 10.0.0.2 never probed again.
    expect(reports.slice(before).map((r) => [r.realServer.address, r.previous, r.state])).toEqual([['10.0.0.3', 'unknown', 'up']]);
    expect(runner.started.filter((s) => s.address === '10.0.0.2' && s.at > 1500)).toEqual([]);
  });

  it('restarts a server whose checks changed and reports against what was last said', async () => {
    const { clock, table, reports, load } = setup();
    table.set('10.0.0.1', 'refused');
    load(service('web', ['10.0.0.1'], tcp()));
    await clock.advance(100);
    expect(reports.at(-1)).toMatchObject({ state: 'down', previous: 'unknown' });
    table.set('10.0.0.1', 'up');
    load(service('web', ['10.0.0.1'], tcp({ interval: 2 })));
    await clock.advance(100);
    expect(reports.at(-1)).toMatchObject({ state: 'up', previous: 'down' });
  });

  it('reports a dynamic weight change while the server stays up', async () => {
    const { clock, table, reports, load } = setup();
    table.set('10.0.0.1', { weightExit: 7 });
    load(service('web', ['10.0.0.1'], { type: 'script', path: '/bin/true', dynamicWeight: true, interval: 1, warmup: 0 }));
    await clock.advance(10);
    table.set('10.0.0.1', { weightExit: 3 });
    await clock.advance(1000);
    expect(reports.map((r) => [r.state, r.weight])).toEqual([
      ['up', 7],
      ['up', 3],
    ]);
  });

  it('stop() aborts probes in flight and leaves no timer behind', async () => {
    const { clock, table, runner, engine, load } = setup();
    table.set('10.0.0.1', 'hang');
    load(service('web', ['10.0.0.1', '10.0.0.2'], tcp()));
    await clock.advance(10);
    engine.stop();
    expect(runner.aborted).toEqual(['10.0.0.1']);
    await clock.advance(0);
    expect(clock.pending).toBe(0);
  });
});
