import { connectBus, openStore } from '@fulcrum/bus';
import type { Bus } from '@fulcrum/bus';
import { InMemoryIpvs } from '@fulcrum/netlink/testing';
import { EVENT_SUBJECTS, desiredBucket, statusBucket, statusKeyOf } from '@fulcrum/schemas';
import type { EventOf } from '@fulcrum/schemas';
import { type NatsServer, eventually, memoryLogger, startNats } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachDirector } from '../bus-link.js';
import { dbCluster, dbPool, replicationEvent, weightsByPort } from '../testing/index.js';
import { Reconciler } from './reconciler.js';

// ipvs-agent (director) on a real NATS, with replication state published as the replication-monitor does:
// events on fulcrum.evt.replication.<host> and the latest per node in the status bucket.

let nats: NatsServer;
let bus: Bus;
let monitor: Bus;
beforeAll(async () => {
  nats = await startNats({ jetstream: true });
  bus = await connectBus({ servers: nats.url, name: 'ipvs-agent@director1' });
  monitor = await connectBus({ servers: nats.url, name: 'replication-monitor@data1' });
});
afterAll(async () => {
  await bus?.close();
  await monitor?.close();
  await nats?.dispose();
});

const pool = (id: string, port: number) => dbPool(id, port, 2);
const cluster = dbCluster();

/** What the monitor does with a change: publish it and keep it as the node's status entry. */
async function publish(e: EventOf<'replication'>): Promise<void> {
  monitor.publish(EVENT_SUBJECTS.replication, { host: 'data1' }, e);
  await (await openStore(monitor, statusBucket)).put(statusKeyOf(e), e);
}

describe('ipvs-agent: replication over a real NATS', () => {
  it('an agent started after the monitor published reads the status bucket: its first table already has the broken replica at 0', async () => {
    const desired = await openStore(monitor, desiredBucket);
    await desired.put('vs.db-read', pool('db-read', 3306));
    await desired.put('vs.db-write', pool('db-write', 3307));
    await desired.put('replication.db', cluster);
    await publish(replicationEvent('db1', 'primary', 'ok'));
    await publish(replicationEvent('db2', 'replica', 'broken'));

    const kernel = new InMemoryIpvs();
    const reconciler = new Reconciler({ ipvs: kernel, logger: memoryLogger().logger, driftCheckMs: 0, coalesceMs: 5 });
    await reconciler.start();
    const link = await attachDirector({ bus, host: 'director1', logger: memoryLogger().logger, reconciler, ipvs: kernel });
    try {
      // attachDirector returns after the first pass over the full desired state: nothing to wait for.
      expect(await weightsByPort(kernel)).toEqual({ 3306: { '10.0.2.1': 2, '10.0.2.2': 0 }, 3307: { '10.0.2.1': 2, '10.0.2.2': 0 } });

      // The replica repaired: back in the read pool, still no writes.
      await publish(replicationEvent('db2', 'replica', 'ok'));
      await eventually('db2 back in the read pool', async () => ((await weightsByPort(kernel))[3306]?.['10.0.2.2'] === 2 ? true : undefined), 10_000);
      expect((await weightsByPort(kernel))[3307]).toEqual({ '10.0.2.1': 2, '10.0.2.2': 0 });

      // db1 fails and the DBA promotes db2: the monitor's next round says so, and the writes follow.
      await publish(replicationEvent('db1', 'replica', 'unreachable'));
      await publish(replicationEvent('db2', 'primary', 'ok'));
      await eventually('the write service points at db2 only', async () => {
        const t = await weightsByPort(kernel);
        return t[3307]?.['10.0.2.2'] === 2 && t[3307]?.['10.0.2.1'] === 0 ? t : undefined;
      }, 10_000);
      expect((await weightsByPort(kernel))[3306]).toEqual({ '10.0.2.1': 0, '10.0.2.2': 2 });
    } finally {
      link.close();
      await reconciler.stop();
    }

    // A second agent started now (a restart) takes the promotion from the status bucket, not the configured roles.
    const kernel2 = new InMemoryIpvs();
    const reconciler2 = new Reconciler({ ipvs: kernel2, logger: memoryLogger().logger, driftCheckMs: 0, coalesceMs: 5 });
    await reconciler2.start();
    const link2 = await attachDirector({ bus, host: 'director1', logger: memoryLogger().logger, reconciler: reconciler2, ipvs: kernel2 });
    try {
      expect(await weightsByPort(kernel2)).toEqual({ 3306: { '10.0.2.1': 0, '10.0.2.2': 2 }, 3307: { '10.0.2.1': 0, '10.0.2.2': 2 } });
    } finally {
      link2.close();
      await reconciler2.stop();
    }
  });
});
