import type { EventOf } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { dbCluster } from '../testing/index.js';
import { ReplicationOverlay } from './replication.js';
import type { ReplicationReport } from './replication.js';

/** db1 primary, db2 and db3 replicas; only the read pool unless `pools` says otherwise. */
const cluster = (pools: { read?: boolean; write?: boolean } = { read: true }) => dbCluster({ nodes: 3, read: pools.read ?? false, write: pools.write ?? false });

type Data = EventOf<'replication'>['data'];
let clock = Date.parse('2026-11-22T03:00:00Z');
/** A report one second after the previous one, unless `at` says when. */
const rep = (node: string, state: Data['state'], role: Data['role'] = 'replica', at?: number): ReplicationReport => {
  clock += 1000;
  return { time: new Date(at ?? clock).toISOString(), data: { cluster: 'db', node, role, state } };
};
const zero = (o: ReplicationOverlay, pool: string) =>
  o
    .zeroWeight()
    .filter((s) => s.virtualService === pool)
    .map((s) => s.address);

describe('ReplicationOverlay: read pool', () => {
  it('a replica reported lagging, broken or unreachable gets weight 0; ok replicas, the primary and pool-less clusters keep theirs', () => {
    const o = new ReplicationOverlay();
    o.setCluster(cluster());
    expect(o.report(rep('db2', 'lagging'))).toBe(true);
    expect(o.report(rep('db2', 'lagging'))).toBe(false);
    o.report(rep('db3', 'ok'));
    o.report(rep('db1', 'unreachable', 'primary'));
    expect(o.zeroWeight()).toEqual([{ virtualService: 'db-read', address: '10.0.2.2', port: 3306, reason: 'lagging' }]);
    o.report(rep('db3', 'broken'));
    expect(zero(o, 'db-read')).toEqual(['10.0.2.2', '10.0.2.3']);
    o.report(rep('db2', 'ok'));
    expect(zero(o, 'db-read')).toEqual(['10.0.2.3']);
    o.setCluster(cluster({}));
    expect(o.zeroWeight()).toEqual([]);
    o.setCluster(cluster());
    o.deleteCluster('db');
    expect(o.zeroWeight()).toEqual([]);
  });

  it('uses the role the monitor observed: the configured primary, demoted and broken, leaves the read pool; the promoted replica stays', () => {
    const o = new ReplicationOverlay();
    o.setCluster(cluster());
    o.report(rep('db1', 'broken', 'replica'));
    o.report(rep('db2', 'broken', 'primary'));
    expect(o.primaryOf(cluster())).toBe('db2');
    // db2 is the primary now, so its state as a replica no longer applies; db1 is a broken replica.
    expect(zero(o, 'db-read')).toEqual(['10.0.2.1']);
  });

  it('an older report never overrides a newer one (a status entry read after the event it predates)', () => {
    const o = new ReplicationOverlay();
    o.setCluster(cluster());
    const old = rep('db2', 'ok');
    const fresh = rep('db2', 'broken');
    expect(o.report(fresh)).toBe(true);
    expect(o.report(old)).toBe(false);
    expect(zero(o, 'db-read')).toEqual(['10.0.2.2']);
  });
});

describe('ReplicationOverlay: write pool', () => {
  it('only the configured primary keeps its weight before any report', () => {
    const o = new ReplicationOverlay();
    o.setCluster(cluster({ write: true }));
    expect(o.zeroWeight()).toEqual([
      { virtualService: 'db-write', address: '10.0.2.2', port: 3306, reason: 'not-primary' },
      { virtualService: 'db-write', address: '10.0.2.3', port: 3306, reason: 'not-primary' },
    ]);
  });

  it('follows a promotion: the new primary gets the writes, the old one weight 0', () => {
    const o = new ReplicationOverlay();
    const c = cluster({ read: true, write: true });
    o.setCluster(c);
    o.report(rep('db1', 'ok', 'primary'));
    o.report(rep('db2', 'ok'));
    o.report(rep('db3', 'ok'));
    expect(zero(o, 'db-write')).toEqual(['10.0.2.2', '10.0.2.3']);
    // The monitor's round after the failover: db3 promoted, db1 unreachable and now counted a replica.
    expect(o.report(rep('db1', 'unreachable', 'replica'))).toBe(true);
    expect(o.report(rep('db3', 'ok', 'primary'))).toBe(true);
    expect(o.primaryOf(c)).toBe('db3');
    expect(zero(o, 'db-write')).toEqual(['10.0.2.1', '10.0.2.2']);
    expect(zero(o, 'db-read')).toEqual(['10.0.2.1']);
  });

  it('two nodes reported primary (one monitor behind another): the newest report wins', () => {
    const o = new ReplicationOverlay();
    const c = cluster({ write: true });
    o.setCluster(c);
    const t = clock;
    o.report(rep('db2', 'ok', 'primary', t + 5000));
    o.report(rep('db1', 'ok', 'primary', t + 2000));
    expect(o.primaryOf(c)).toBe('db2');
    expect(zero(o, 'db-write')).toEqual(['10.0.2.1', '10.0.2.3']);
  });

  it('an unreachable primary keeps the writes: the monitor observes, it does not fail over', () => {
    const o = new ReplicationOverlay();
    const c = cluster({ write: true });
    o.setCluster(c);
    o.report(rep('db1', 'unreachable', 'primary'));
    expect(o.primaryOf(c)).toBe('db1');
    expect(zero(o, 'db-write')).toEqual(['10.0.2.2', '10.0.2.3']);
  });
});
