// Failover with a real master, two replicas and Sentinel: the master is killed while two proxies (one plain,
// one durable) each run a bounded write loop. Measured: errors, the longest gap between acknowledged writes,
// and which acknowledged writes are still readable afterwards.
import { type RedisServer, type SentinelServer, eventually, startRedis, startRedisSentinel } from '@fulcrum/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestProxy, type WriteLoopResult, startTestProxy, startWriteLoop } from './testing/index.js';

const port = (url: string) => Number(new URL(url).port);
let master: RedisServer;
let replicas: RedisServer[];
let sentinel: SentinelServer;
let plain: TestProxy;
let durable: TestProxy;

beforeAll(async () => {
  master = await startRedis();
  replicas = await Promise.all([0, 1].map(() => startRedis({ args: ['--replicaof', '127.0.0.1', String(port(master.url))] })));
  const m = new Redis({ port: port(master.url) });
  await eventually('replicas attached', async () => /connected_slaves:2/.test(await m.info('replication')), 15_000);
  m.disconnect();
  sentinel = await startRedisSentinel({ masterName: 'sessions', master: { host: '127.0.0.1', port: port(master.url) }, downAfterMs: 1000 });
  await eventually('sentinel knows both replicas', async () => (await sentinel.command('SENTINEL replicas sessions')).startsWith('*2'), 15_000);
  const upstream = { mode: 'sentinel' as const, sentinels: [{ address: '127.0.0.1', port: sentinel.port }], masterName: 'sessions' };
  plain = await startTestProxy(upstream, { commandTimeoutMs: 3000 });
  durable = await startTestProxy(upstream, { commandTimeoutMs: 3000, durable: true, durableTimeoutMs: 1000 });
  await eventually('proxies connected', () => plain.pool.connected && durable.pool.connected);
}, 60_000);
afterAll(async () => {
  await plain?.close();
  await durable?.close();
  await sentinel?.dispose();
  for (const r of [master, ...(replicas ?? [])]) await r?.dispose();
});

describe('master failover through Sentinel', () => {
  it('moves both proxies to the new master; errors are retryable; durable acks survive', async () => {
    const oldPort = port(master.url);
    let killedAt = 0;
    let movedAt = 0;
    const done = () => movedAt > 0 && Date.now() - movedAt > 2000;
    const running = [startWriteLoop(plain.port, { prefix: 'plain:', until: done, maxMs: 30_000 }), startWriteLoop(durable.port, { prefix: 'durable:', until: done, maxMs: 30_000 })] as const;
    const loops = Promise.all([running[0].done, running[1].done]);
    await eventually('writes acknowledged before the kill', () => running.every((l) => l.result.acked.length >= 20), 20_000);
    killedAt = Date.now();
    await master.kill();
    await eventually('a new master', () => plain.pool.master?.port !== oldPort && durable.pool.master?.port !== oldPort && plain.pool.connected, 25_000);
    movedAt = Date.now();
    const [p, d] = await loops;

    const report = (name: string, r: WriteLoopResult) =>
      `${name}: ${r.acked.length} acked, ${r.errors.length} errors, longest gap ${r.gapMs} ms, master moved ${movedAt - killedAt} ms after the kill`;
    process.stderr.write(`failover: ${report('plain', p)}\nfailover: ${report('durable', d)}\n`);

    expect(plain.pool.failovers).toBe(1);
    expect(movedAt - killedAt).toBeLessThan(15_000);
    for (const e of [...p.errors, ...d.errors]) expect(e).toMatch(/^(TRYAGAIN|NOREPLICAS) /);
    expect(p.gapMs).toBeLessThan(15_000);
    expect(d.acked.length).toBeGreaterThan(10);

    // Every write the durable proxy acknowledged is on the new master.
    const reader = new Redis({ port: durable.port });
    // In chunks: one MGET may carry at most the proxy's maxArgs (4096) keys, and a fast host acks more than that.
    const lost: number[] = [];
    for (let at = 0; at < d.acked.length; at += 1000) {
      const chunk = d.acked.slice(at, at + 1000);
      const values = await reader.mget(chunk.map((i) => `durable:${i}`));
      lost.push(...chunk.filter((i, j) => values[j] !== String(i)));
    }
    expect(lost).toEqual([]);
    reader.disconnect();
  }, 90_000);
});
