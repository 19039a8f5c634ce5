import { defineBucket } from '@fulcrum/schemas';
import { eventually, startNatsCluster, type NatsCluster } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connectBus, type Bus } from './bus.js';
import { RevisionConflictError } from './errors.js';
import { openStore, type StoreChange } from './store.js';

const value = z.object({ n: z.number().int() });
const bucket = defineBucket('desired-cluster', value, { history: 5 });
const USER = { user: 'agent', password: 'pw' };

describe('KV store on a 3-node JetStream cluster', () => {
  let cluster: NatsCluster;
  const buses: Bus[] = [];
  const open = async (servers: readonly string[]) => {
    const bus = await connectBus({
      servers: [...servers],
      name: `cluster-${buses.length}`,
      auth: { user: USER.user, pass: USER.password },
      reconnectWaitMs: 100,
      timeoutMs: 2000,
    });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    cluster = await startNatsCluster({ auth: { users: [USER] } });
  });
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await cluster?.dispose();
  });

  it('keeps the bucket and the watch going, each change once, when the watcher\'s node dies', async () => {
    const watcherBus = await open(cluster.urls);
    const victim = cluster.nodes.find((n) => watcherBus.server.endsWith(`:${n.port}`));
    expect(victim).toBeDefined();
    // The writer lives on another node, so only the watcher fails over.
    const writerBus = await open(cluster.nodes.filter((n) => n !== victim).map((n) => n.url));
    const writer = await openStore(writerBus, bucket, { replicas: 3 });
    const watch = (await openStore(watcherBus, bucket, { bindOnly: true })).watch({ keys: 'vs.>' });
    const iter = watch[Symbol.asyncIterator]();
    const seen: string[] = [];
    const collect = async (count: number) => {
      while (seen.length < count) {
        const next = (await iter.next()) as IteratorResult<StoreChange<{ n: number }>>;
        if (next.done) throw new Error('watch ended');
        seen.push(next.value.op === 'put' ? `${next.value.key}=${next.value.value.n}` : `-${next.value.key}`);
      }
    };

    const r1 = await writer.put('vs.a', { n: 1 });
    const r2 = await writer.put('vs.b', { n: 2 });
    await writer.put('probe', { n: 0 });
    await collect(2);

    await victim?.kill();
    // The stream may have lost its leader with that node: wait until the other two serve it again.
    // (A write meanwhile fails with BusUnavailableError; a probe outside the watched keys waits it out.)
    await eventually('the bucket takes writes again', () => writer.put('probe', { n: 0 }).then(() => true, () => false), 20_000);
    await writer.put('vs.c', { n: 3 });
    await writer.delete('vs.b');
    await expect(writer.put('vs.a', { n: 9 }, { expectedRevision: r2 })).rejects.toBeInstanceOf(RevisionConflictError);
    await writer.put('vs.a', { n: 4 }, { expectedRevision: r1 });
    await Promise.race([
      collect(5),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`watch saw only ${JSON.stringify(seen)}`)), 20_000).unref()),
    ]);
    expect(seen).toEqual(['vs.a=1', 'vs.b=2', 'vs.c=3', '-vs.b', 'vs.a=4']);
    expect(watcherBus.server.endsWith(`:${victim?.port}`)).toBe(false);
    watch.stop();
  });
});
