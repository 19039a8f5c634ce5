// Failover with a real master, two replicas and Sentinel: the master is killed while two proxies (one plain,
// one durable) each run a bounded write loop. Measured: errors, the longest gap between acknowledged writes,
// and which acknowledged writes are still readable afterwards.
import { type RedisServer, type SentinelServer, eventually, startRedis, startRedisSentinel } from '@fulcrum/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestProxy, startTestProxy } from './testing/index.js';

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

interface LoopResult {
  acked: number[];
  errors: string[];
  gapMs: number;
}

/** Writes k<i> = i one after another until `until()` or 30 s; the gap is the longest time without an ack. */
async function writeLoop(proxy: TestProxy, prefix: string, until: () => boolean, res: LoopResult): Promise<LoopResult> {
  const c = new Redis({ port: proxy.port, maxRetriesPerRequest: 0 });
  let last = Date.now();
  const end = Date.now() + 30_000;
  for (let i = 0; Date.now() < end && !until(); i++) {
    try {
      await c.set(`${prefix}${i}`, String(i));
      res.acked.push(i);
      res.gapMs = Math.max(res.gapMs, Date.now() - last);
      last = Date.now();
    } catch (e) {
      res.errors.push((e as Error).message);
    }
  }
  c.disconnect();
  return res;
}

describe('master failover through Sentinel', () => {
  it('moves both proxies to the new master; errors are retryable; durable acks survive', async () => {
    const oldPort = port(master.url);
    let killedAt = 0;
    let movedAt = 0;
    const done = () => movedAt > 0 && Date.now() - movedAt > 2000;
    const progress: LoopResult[] = [0, 1].map(() => ({ acked: [], errors: [], gapMs: 0 }));
    const loops = Promise.all([writeLoop(plain, 'plain:', done, progress[0] as LoopResult), writeLoop(durable, 'durable:', done, progress[1] as LoopResult)]);
    await eventually('writes acknowledged before the kill', () => progress.every((r) => r.acked.length >= 20), 20_000);
    killedAt = Date.now();
    await master.kill();
    await eventually('a new master', () => plain.pool.master?.port !== oldPort && durable.pool.master?.port !== oldPort && plain.pool.connected, 25_000);
    movedAt = Date.now();
    const [p, d] = await loops;

    const report = (name: string, r: LoopResult) =>
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
