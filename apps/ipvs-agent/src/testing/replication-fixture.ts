// The replicated database the replication specs share: cluster db with db1 (primary) and replicas on
// 10.0.2.x, its read and write pools as NAT services on 10.0.0.200, and the monitor's reports about it.
import type { IpvsControl } from '@fulcrum/netlink';
import { dumpToTable } from '@fulcrum/netlink';
import type { EventOf, ReplicationCluster, VirtualService } from '@fulcrum/schemas';
import { makeEvent, replicationCluster, virtualService } from '@fulcrum/schemas';

/** A pool service on 10.0.2.1 and 10.0.2.2 (db1 and db2), both at `weight`. */
export const dbPool = (id: string, port: number, weight: number): VirtualService =>
  virtualService.parse({
    kind: 'virtual-service',
    id,
    match: { kind: 'address', protocol: 'tcp', address: '10.0.0.200', port },
    forwarding: 'nat',
    realServers: [
      { address: '10.0.2.1', port: 3306, weight },
      { address: '10.0.2.2', port: 3306, weight },
    ],
  });

/** Cluster db: db1 the configured primary, db2..dbN replicas; readPool db-read and writePool db-write unless turned off. */
export const dbCluster = ({ nodes = 2, read = true, write = true }: { nodes?: number; read?: boolean; write?: boolean } = {}): ReplicationCluster =>
  replicationCluster.parse({
    kind: 'replication-cluster',
    id: 'db',
    engine: 'mariadb',
    credentials: { user: 'monitor' },
    nodes: Array.from({ length: nodes }, (_, i) => ({ name: `db${i + 1}`, address: `10.0.2.${i + 1}`, port: 3306, role: i === 0 ? 'primary' : 'replica' })),
    ...(read ? { readPool: { virtualService: 'db-read' } } : {}),
    ...(write ? { writePool: { virtualService: 'db-write' } } : {}),
    monitorHosts: ['data1'],
  });

type ReplicationData = EventOf<'replication'>['data'];

/** The replication-monitor on data1 reporting a node of cluster db (now, unless `time` says when). */
export const replicationEvent = (node: string, role: ReplicationData['role'], state: ReplicationData['state'], time?: string): EventOf<'replication'> =>
  makeEvent(
    'replication',
    { service: 'replication-monitor', host: 'data1' },
    { cluster: 'db', node, role, state, lagSeconds: null, ioRunning: null, sqlRunning: null },
    time === undefined ? {} : { time: new Date(time) },
  );

/** The kernel table as `port -> { address: weight }`. */
export const weightsByPort = async (k: Pick<IpvsControl, 'dump'>): Promise<Record<number, Record<string, number>>> =>
  Object.fromEntries(
    dumpToTable(await k.dump()).services.map((s) => [s.key.kind === 'addr' ? s.key.port : 0, Object.fromEntries(s.destinations.map((d) => [d.address, d.weight]))]),
  );
