import { replicationCluster } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { type ReplicationReport, ReplicationMaster } from './replication-master.js';

const cluster = (engine: 'redis' | 'mariadb' = 'redis') =>
  replicationCluster.parse({
    kind: 'replication-cluster',
    id: 'sessions',
    engine,
    ...(engine === 'redis' ? {} : { credentials: { user: 'monitor' } }),
    nodes: [
      { name: 'r1', address: '10.0.5.1', port: 6379, role: 'primary' },
      { name: 'r2', address: '10.0.5.2', port: 6380, role: 'replica' },
    ],
    monitorHosts: ['data1'],
  });

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const report = (node: string, role: 'primary' | 'replica', second: number, clusterId = 'sessions'): ReplicationReport => ({
  time: at(second),
  data: { cluster: clusterId, node, role, state: 'ok' },
});

function tracker() {
  const changes: (string | null)[] = [];
  const m = new ReplicationMaster('sessions', (addr, node) => changes.push(addr ? `${node}=${addr.address}:${addr.port}` : null));
  return { m, changes };
}

describe('ReplicationMaster: the master the replication-monitor reports', () => {
  it('has none until both the cluster and a primary report are known, and says which is missing', () => {
    const { m, changes } = tracker();
    expect(m.master).toBeNull();
    expect(m.waitingFor).toBe('replication cluster "sessions" is not in the desired state (yet)');
    m.cluster(cluster());
    // The configured primary is not taken for the master: only the monitor's word counts.
    expect(m.master).toBeNull();
    expect(m.waitingFor).toBe('the replication-monitor has not reported a primary of cluster "sessions" yet');
    m.report(report('r2', 'replica', 1));
    expect(m.master).toBeNull();
    m.report(report('r1', 'primary', 1));
    expect(m.master).toEqual({ address: '10.0.5.1', port: 6379 });
    expect(m.node).toBe('r1');
    expect(m.waitingFor).toBeNull();
    expect(changes).toEqual(['r1=10.0.5.1:6379']);
  });

  it('follows a promotion; an older report (a stale status entry) does not move it back', () => {
    const { m, changes } = tracker();
    m.cluster(cluster());
    m.report(report('r1', 'primary', 1));
    m.report(report('r2', 'primary', 5));
    m.report(report('r1', 'replica', 5));
    expect(m.master).toEqual({ address: '10.0.5.2', port: 6380 });
    m.report(report('r1', 'primary', 3));
    m.report(report('r2', 'replica', 2));
    expect(m.node).toBe('r2');
    expect(changes).toEqual(['r1=10.0.5.1:6379', 'r2=10.0.5.2:6380']);
  });

  it('while two nodes say primary (a switch in progress), the newer word wins', () => {
    const { m } = tracker();
    m.cluster(cluster());
    m.report(report('r2', 'primary', 7));
    m.report(report('r1', 'primary', 6));
    expect(m.node).toBe('r2');
  });

  it('ignores other clusters; a primary that is not a node of the cluster, or a cluster that is not Redis, names no master', () => {
    const { m, changes } = tracker();
    m.cluster(cluster());
    m.report(report('r1', 'primary', 1, 'other'));
    expect(m.master).toBeNull();
    m.report(report('r9', 'primary', 2));
    expect(m.waitingFor).toBe('the replication-monitor reports "r9" as the primary of cluster "sessions", which is not one of its nodes');
    m.cluster(cluster('mariadb'));
    expect(m.waitingFor).toBe('replication cluster "sessions" is a mariadb cluster, not redis');
    expect(changes).toEqual([]);
  });

  it('reports that came before the cluster count once it arrives; a deleted cluster leaves no master', () => {
    const { m, changes } = tracker();
    m.report(report('r2', 'primary', 1));
    m.cluster(cluster());
    expect(m.node).toBe('r2');
    m.cluster(null);
    expect(m.master).toBeNull();
    expect(changes).toEqual(['r2=10.0.5.2:6380', null]);
  });
});
