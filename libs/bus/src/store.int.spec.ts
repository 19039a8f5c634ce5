import { defineBucket, desiredBucket, statusBucket } from '@fulcrum/schemas';
import { eventually, memoryLogger, startNats, startTcpProxy, type NatsServer } from '@fulcrum/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Registry, type Counter } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connectBus, type Bus } from './bus.js';
import { BusUnavailableError, InvalidKeyError, InvalidMessageError, RevisionConflictError } from './errors.js';
import { openStore, type Store, type StoreChange } from './store.js';

const service = z.object({ vip: z.string(), port: z.number().int().min(1).max(65535), scheduler: z.enum(['rr', 'wrr']) });
type Service = z.infer<typeof service>;
const vs = (port: number): Service => ({ vip: '10.0.0.1', port, scheduler: 'rr' });

const USER = { user: 'config-api', password: 'pw' };

/** Reads `count` changes from a watch (with a deadline, so a lost update fails instead of hanging). */
async function take<T>(iter: AsyncIterator<StoreChange<T>>, count: number, timeoutMs = 15_000): Promise<StoreChange<T>[]> {
  const out: StoreChange<T>[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count) {
    const left = deadline - Date.now();
    const next = await Promise.race([
      iter.next(),
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(0, left)).unref()),
    ]);
    if (next === 'timeout') throw new Error(`watch delivered ${out.length} of ${count} changes: ${JSON.stringify(out)}`);
    if (next.done) throw new Error(`watch ended after ${out.length} of ${count} changes`);
    out.push(next.value);
  }
  return out;
}

const brief = (c: StoreChange<Service>) => (c.op === 'put' ? `${c.key}=${c.value.port}` : `-${c.key}`);

describe('KV store over a real nats-server', () => {
  let nats: NatsServer;
  let raw: NatsConnection;
  const buses: Bus[] = [];
  let bucketNo = 0;
  const open = async (extra: Partial<Parameters<typeof connectBus>[0]> = {}) => {
    const bus = await connectBus({
      servers: nats.url,
      name: `store-${buses.length}`,
      auth: { user: USER.user, pass: USER.password },
      reconnectWaitMs: 100,
      timeoutMs: 1000,
      ...extra,
    });
    buses.push(bus);
    return bus;
  };
  /** A fresh bucket per test, so tests do not see each other's revisions. */
  const freshStore = async (bus: Bus, opts: { ttlMs?: number; history?: number } = {}): Promise<Store<Service>> =>
    openStore(bus, defineBucket(`desired${++bucketNo}`, service, opts));

  beforeAll(async () => {
    nats = await startNats({ auth: { users: [USER] } });
    raw = await connect({ servers: nats.url, user: USER.user, pass: USER.password, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  });
  // A test that fails while the server is down must not take the next tests with it.
  afterEach(async () => {
    if (!nats.isRunning()) await nats.start();
  });
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await raw?.close();
    await nats?.dispose();
  });

  it('gets what was put, with its revision; an absent key is null', async () => {
    const store = await freshStore(await open());
    expect(await store.get('vs.web')).toBeNull();
    const rev = await store.put('vs.web', vs(80));
    expect(await store.get('vs.web')).toEqual({ value: vs(80), revision: rev });
    await store.delete('vs.web');
    expect(await store.get('vs.web')).toBeNull();
  });

  it('refuses an invalid value or key before writing, naming the field', async () => {
    const store = await freshStore(await open());
    await expect(store.put('vs.web', { ...vs(80), port: 0 })).rejects.toThrow(InvalidMessageError);
    await expect(store.put('vs.web', { ...vs(80), port: 0 })).rejects.toThrow(/\$KV\.desired\d+\.vs\.web: port: Too small/);
    await expect(store.put('vs web', vs(80))).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.put('vs..web', vs(80))).rejects.toBeInstanceOf(InvalidKeyError);
    expect(await store.get('vs.web')).toBeNull();
  });

  describe('opening buckets', () => {
    it('creates the contract\'s buckets with their history and TTL', async () => {
      const bus = await open();
      const desired = await openStore(bus, desiredBucket);
      const status = await openStore(bus, statusBucket);
      expect((await desired.readAll()).revision).toBe(0);
      const jsm = await jetstreamManager(raw);
      const desiredInfo = await jsm.streams.info(`KV_${desired.bucket}`);
      const statusInfo = await jsm.streams.info(`KV_${status.bucket}`);
      expect(desiredInfo.config.max_msgs_per_subject).toBe(desiredBucket.history);
      expect(desiredInfo.config.max_age).toBe(0);
      expect(statusInfo.config.max_age).toBe((statusBucket.ttlMs ?? 0) * 1_000_000);
    });

    it('uses a bucket that exists with other settings as it is', async () => {
      const { logger, records } = memoryLogger();
      const bus = await open({ logger });
      const first = await freshStore(bus, { history: 1 });
      await first.put('vs.a', vs(1));
      const again = await openStore(bus, defineBucket(first.bucket, service, { history: 5 }));
      expect((await again.get('vs.a'))?.value).toEqual(vs(1));
      expect(records.some((r) => r.msg === 'bucket exists with other settings; using it unchanged')).toBe(true);
    });

    it('refuses to bind to a bucket that does not exist', async () => {
      const bus = await open();
      await expect(openStore(bus, defineBucket('nowhere', service), { bindOnly: true })).rejects.toThrow(
        /open bucket nowhere: the bucket does not exist/,
      );
    });
  });

  describe('revisions', () => {
    it('writes only at the expected revision, and says what the key is at otherwise', async () => {
      const store = await freshStore(await open());
      const r1 = await store.put('vs.web', vs(80), { expectedRevision: 0 });
      const r2 = await store.put('vs.web', vs(81), { expectedRevision: r1 });
      expect(r2).toBeGreaterThan(r1);

      const stale = await store.put('vs.web', vs(82), { expectedRevision: r1 }).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(RevisionConflictError);
      expect(stale).toMatchObject({ key: 'vs.web', expected: r1, actual: r2 });
      expect(String(stale)).toMatch(new RegExp(`expected to be at revision ${r1} \\(it is at revision ${r2}\\)`));

      const exists = await store.put('vs.web', vs(83), { expectedRevision: 0 }).catch((e: unknown) => e);
      expect(exists).toMatchObject({ name: 'RevisionConflictError', expected: 0, actual: r2 });

      const staleDelete = await store.delete('vs.web', { expectedRevision: r1 }).catch((e: unknown) => e);
      expect(staleDelete).toMatchObject({ name: 'RevisionConflictError', expected: r1, actual: r2 });
      expect(await store.get('vs.web')).toEqual({ value: vs(81), revision: r2 });

      await store.delete('vs.web', { expectedRevision: r2 });
      // A deleted key does not exist: it may be created again with expectedRevision 0.
      const r3 = await store.put('vs.web', vs(84), { expectedRevision: 0 });
      expect(await store.get('vs.web')).toEqual({ value: vs(84), revision: r3 });
    });

    it('lets exactly one of two concurrent writers at the same revision win', async () => {
      const a = await freshStore(await open());
      const b = await openStore(await open(), defineBucket(a.bucket, service));
      const r1 = await a.put('vs.web', vs(80));
      const results = await Promise.allSettled([a.put('vs.web', vs(1), { expectedRevision: r1 }), b.put('vs.web', vs(2), { expectedRevision: r1 })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected');
      expect(lost?.status === 'rejected' && lost.reason).toBeInstanceOf(RevisionConflictError);
    });
  });

  describe('readAll and watch', () => {
    it('reads a consistent snapshot, and a watch from its revision sees exactly the later changes', async () => {
      const registry = new Registry();
      const { logger, records } = memoryLogger();
      const bus = await open({ registry, logger });
      const store = await freshStore(bus);
      await store.put('vs.a', vs(1));
      await store.put('vs.b', vs(2));
      await store.put('vs.a', vs(11));
      await store.put('vs.gone', vs(3));
      await store.delete('vs.gone');
      // Something that is not a valid value got in behind the bus's back.
      const kv = await new Kvm(raw).open(store.bucket);
      await kv.put('vs.bad', JSON.stringify({ vip: '10.0.0.9', port: 'eighty', scheduler: 'rr' }));

      const snap = await store.readAll();
      expect([...snap.entries.entries()].map(([k, e]) => [k, e.value.port])).toEqual([
        ['vs.b', 2],
        ['vs.a', 11],
      ]);
      expect(snap.invalid).toEqual(['vs.bad']);
      expect(snap.revision).toBe(6);
      // It leaves no consumer behind on the server.
      const jsm = await jetstreamManager(raw);
      expect(await jsm.consumers.list(`KV_${store.bucket}`).next()).toEqual([]);
      const invalidCount = (registry.getSingleMetric('fulcrum_bus_invalid_messages_total') as Counter<'subject'>).get();
      expect((await invalidCount).values).toEqual([expect.objectContaining({ labels: { subject: `$KV.${store.bucket}` }, value: 1 })]);
      expect(records.some((r) => r.subject === `$KV.${store.bucket}.vs.bad` && /port: Invalid input/.test(String(r.msg)))).toBe(true);

      const watch = store.watch({ fromRevision: snap.revision });
      const iter = watch[Symbol.asyncIterator]();
      await store.put('vs.c', vs(4));
      await kv.put('vs.bad', 'still not json'); // skipped by the watch (logged and counted), not thrown
      await store.delete('vs.a');
      const changes = await take(iter, 2);
      expect(changes.map(brief)).toEqual(['vs.c=4', '-vs.a']);
      expect(changes.map((c) => c.revision)).toEqual([7, 9]);
      expect(watch.revision).toBe(9);
      watch.stop();
      expect(await iter.next()).toEqual({ done: true, value: undefined });
    });

    it('reads an empty bucket as no entries at revision 0, and watches only the keys asked for', async () => {
      const store = await freshStore(await open());
      expect(await store.readAll()).toEqual({ entries: new Map(), revision: 0, invalid: [] });
      const one = store.watch({ keys: 'vs.*' });
      const several = store.watch({ keys: ['vs.a', 'host.>'] });
      const [oneIter, severalIter] = [one[Symbol.asyncIterator](), several[Symbol.asyncIterator]()];
      await store.put('host.d1', vs(9));
      await store.put('vs.b', vs(2));
      await store.put('vrrp.v1', vs(3));
      await store.put('vs.a', vs(1));
      expect((await take(oneIter, 2)).map(brief)).toEqual(['vs.b=2', 'vs.a=1']);
      expect((await take(severalIter, 2)).map(brief)).toEqual(['host.d1=9', 'vs.a=1']);
      one.stop();
      several.stop();
    });
  });

  describe('when the server goes away and comes back', () => {
    it('fails fast with BusUnavailableError while it is gone, and works again after', async () => {
      const bus = await open();
      const store = await freshStore(bus);
      await store.put('vs.a', vs(1));
      await nats.stop();
      await eventually('the bus noticed', () => bus.state === 'disconnected');
      for (const op of [() => store.get('vs.a'), () => store.put('vs.a', vs(2)), () => store.readAll(), () => store.delete('vs.a')]) {
        const started = Date.now();
        const err = await op().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BusUnavailableError);
        expect(Date.now() - started).toBeLessThan(500); // well under timeoutMs (1 s): no waiting at all
      }
      await nats.start();
      await bus.connected();
      expect((await store.get('vs.a'))?.value).toEqual(vs(1));
    });

    // The case the issue names: a watcher, a restart of nats-server with the same store dir, more
    // updates, and every update seen exactly once, in order. `kill` is a crash, `restart` a clean stop.
    it.each(['restart', 'kill'] as const)('a watch survives a server %s with no lost or duplicated update', async (how) => {
      const writerBus = await open();
      const watcherBus = await open();
      const writer = await freshStore(writerBus);
      const watched = await openStore(watcherBus, defineBucket(writer.bucket, service));
      const watch = watched.watch();
      const iter = watch[Symbol.asyncIterator]();

      // One at a time: with history 1 the server keeps only the latest revision of a key, so a
      // watcher that falls behind gets the newer state instead of each superseded one.
      const seen: string[] = [];
      for (const [key, port] of [['vs.a', 1], ['vs.b', 2], ['vs.a', 3]] as const) {
        await writer.put(key, vs(port));
        seen.push(...(await take(iter, 1)).map(brief));
      }
      expect(seen).toEqual(['vs.a=1', 'vs.b=2', 'vs.a=3']);
      // Written while the watcher is connected but not yet read by it: delivered, never twice.
      await writer.put('vs.c', vs(4));

      if (how === 'kill') await nats.kill();
      else await nats.stop();
      await eventually('both buses noticed', () => writerBus.state === 'disconnected' && watcherBus.state === 'disconnected');
      await nats.start();
      await writerBus.connected();
      await writer.put('vs.b', vs(5));
      await writer.delete('vs.a');
      await writer.put('vs.d', vs(6));
      await writer.put('vs.end', vs(7));

      // Everything after the first three, once each, in order; `vs.end` last proves nothing came twice before it.
      const rest = await take(iter, 5);
      expect(rest.map(brief)).toEqual(['vs.c=4', 'vs.b=5', '-vs.a', 'vs.d=6', 'vs.end=7']);
      const revisions = rest.map((c) => c.revision);
      expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
      expect(new Set(revisions).size).toBe(5);
      watch.stop();
    });
  });

  it('a watcher cut off from a running server catches up promptly, each update once, when its link returns', async () => {
    const proxy = await startTcpProxy({ port: nats.port });
    try {
      const writerBus = await open();
      const watcherBus = await open({ servers: `nats://127.0.0.1:${proxy.port}` });
      const writer = await freshStore(writerBus);
      const watch = (await openStore(watcherBus, defineBucket(writer.bucket, service))).watch();
      const iter = watch[Symbol.asyncIterator]();
      await writer.put('vs.a', vs(1));
      expect((await take(iter, 1)).map(brief)).toEqual(['vs.a=1']);

      await proxy.cut();
      await eventually('the watcher noticed', () => watcherBus.state === 'disconnected');
      await writer.put('vs.b', vs(2));
      await writer.put('vs.c', vs(3));
      // The server drops the watcher's consumer, as it does after 5 minutes without interest (or a
      // failover to a server that never had it).
      const admin = await connect({ servers: nats.url, user: USER.user, pass: USER.password });
      const jsm = await jetstreamManager(admin);
      const consumers = await jsm.consumers.list(`KV_${writer.bucket}`).next();
      expect(consumers.length).toBeGreaterThan(0);
      for (const c of consumers) await jsm.consumers.delete(`KV_${writer.bucket}`, c.name);
      await admin.close();
      await proxy.restore();
      await watcherBus.connected();
      const back = Date.now();
      await writer.put('vs.end', vs(4));
      expect((await take(iter, 3, 8000)).map(brief)).toEqual(['vs.b=2', 'vs.c=3', 'vs.end=4']);
      // Without a new consumer at once, it would wait for missed heartbeats (10 s and more).
      expect(Date.now() - back).toBeLessThan(5000);
      watch.stop();
    } finally {
      await proxy.close();
    }
  });

  describe('status bucket', () => {
    it('forgets an entry after the bucket TTL', async () => {
      const store = await freshStore(await open(), { ttlMs: 1000 });
      await store.put('health.d1', vs(1));
      expect((await store.get('health.d1'))?.value).toEqual(vs(1));
      const started = Date.now();
      await eventually('the entry expired', async () => (await store.get('health.d1')) === null, 5000);
      expect(Date.now() - started).toBeGreaterThan(500);
      expect((await store.readAll()).entries.size).toBe(0);
    });
  });
});
