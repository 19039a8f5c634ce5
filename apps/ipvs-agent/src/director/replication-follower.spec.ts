import { InMemoryIpvs } from '@fulcrum/netlink/testing';
import { makeEvent } from '@fulcrum/schemas';
import type { FulcrumEvent } from '@fulcrum/schemas';
import { memoryLogger } from '@fulcrum/testing';
import { describe, expect, it } from 'vitest';
import { dbCluster, dbPool, replicationEvent, weightsByPort } from '../testing/index.js';
import { Reconciler } from './reconciler.js';
import { ReplicationFollower } from './replication-follower.js';

// The follower between the bus and a real Reconciler over the in-memory kernel: what ends up in the table.

const pool = (id: string, port: number) => dbPool(id, port, 3);
const cluster = dbCluster();
async function setUp() {
  const kernel = new InMemoryIpvs();
  const reconciler = new Reconciler({ ipvs: kernel, logger: memoryLogger().logger, driftCheckMs: 0, coalesceMs: 1 });
  await reconciler.start();
  const follower = new ReplicationFollower(reconciler);
  return { kernel, reconciler, follower };
}

describe('ReplicationFollower', () => {
  it('status entries recalled at start count before the first pass; only replication entries are read', async () => {
    const { kernel, reconciler, follower } = await setUp();
    const unrelated: FulcrumEvent = makeEvent('heartbeat', { service: 'replication-monitor', host: 'data1' }, { version: '1', startedAt: '2026-11-22T03:00:00Z', ready: true });
    follower.recall([unrelated, replicationEvent('db1', 'primary', 'ok', '2026-11-22T03:00:01Z'), replicationEvent('db2', 'replica', 'broken', '2026-11-22T03:00:01Z')]);
    follower.putCluster(cluster);
    await reconciler.setDesired([pool('db-read', 3306), pool('db-write', 3307)], 1);
    expect(await weightsByPort(kernel)).toEqual({ 3306: { '10.0.2.1': 3, '10.0.2.2': 0 }, 3307: { '10.0.2.1': 3, '10.0.2.2': 0 } });
    await reconciler.stop();
  });

  it('a promotion moves the writes; deleting the cluster gives every real server its configured weight back', async () => {
    const { kernel, reconciler, follower } = await setUp();
    follower.putCluster(cluster);
    await reconciler.setDesired([pool('db-read', 3306), pool('db-write', 3307)], 1);
    expect((await weightsByPort(kernel))[3307]).toEqual({ '10.0.2.1': 3, '10.0.2.2': 0 });
    follower.report(replicationEvent('db1', 'replica', 'broken', '2026-11-22T03:00:05Z'));
    follower.report(replicationEvent('db2', 'primary', 'ok', '2026-11-22T03:00:05Z'));
    await reconciler.reconcileNow();
    expect(await weightsByPort(kernel)).toEqual({ 3306: { '10.0.2.1': 0, '10.0.2.2': 3 }, 3307: { '10.0.2.1': 0, '10.0.2.2': 3 } });
    follower.deleteCluster('db');
    await reconciler.reconcileNow();
    expect(await weightsByPort(kernel)).toEqual({ 3306: { '10.0.2.1': 3, '10.0.2.2': 3 }, 3307: { '10.0.2.1': 3, '10.0.2.2': 3 } });
    await reconciler.stop();
  });
});
