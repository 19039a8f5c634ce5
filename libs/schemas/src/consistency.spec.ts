import { describe, expect, it } from 'vitest';
import { checkDesiredState, referencesTo } from './consistency.js';
import { desiredObject } from './desired.js';
import type { DesiredObject } from './desired.js';

const d = (v: unknown): DesiredObject => desiredObject.parse(v);

const hosts = [
  d({ kind: 'host', name: 'director1', roles: ['director'] }),
  d({ kind: 'host', name: 'director2', roles: ['director'] }),
  d({ kind: 'host', name: 'web1', roles: ['realserver'] }),
  d({ kind: 'host', name: 'db1', roles: ['data'] }),
];
const web = d({
  kind: 'virtual-service',
  id: 'web',
  match: { kind: 'address', protocol: 'tcp', address: '10.0.0.10', port: 80 },
  realServers: [{ address: '10.0.1.1', port: 80 }],
});
const vrrp = (id: string, patch: Record<string, unknown> = {}) =>
  d({
    kind: 'vrrp-instance',
    id,
    interface: 'eth0',
    virtualRouterId: 51,
    priorities: { director1: 150, director2: 100 },
    virtualAddresses: [{ address: '10.0.0.10' }],
    ...patch,
  });

describe('checkDesiredState: direct routing on the directors\' segments', () => {
  const director = (name: string, networks?: string[]) => d({ kind: 'host', name, roles: ['director'], ...(networks ? { networks } : {}) });
  const dr = d({
    kind: 'virtual-service',
    id: 'web',
    forwarding: 'dr',
    match: { kind: 'address', protocol: 'tcp', address: '10.99.0.100', port: 80 },
    realServers: [
      { address: '10.99.0.21', port: 80 },
      { address: '10.98.0.22', port: 80 },
      { address: '10.98.0.23', port: 80, forwarding: 'tun' },
    ],
    sorryServer: { address: '10.97.0.1', port: 80 },
  });

  it('refuses a DR real server on none of a director\'s networks, naming both', () => {
    expect(checkDesiredState([director('director1', ['10.99.0.11/24', '10.98.0.0/16']), director('director2', ['10.99.0.12/24']), dr])).toEqual([
      {
        path: 'vs.web.realServers[1].address',
        message: '10.98.0.22 uses direct routing but is on none of director "director2"\'s networks (10.99.0.12/24): DR needs the real server on the director\'s segment (or use tun)',
      },
      {
        path: 'vs.web.sorryServer.address',
        message: '10.97.0.1 uses direct routing but is on none of director "director1"\'s networks (10.99.0.11/24, 10.98.0.0/16): DR needs the real server on the director\'s segment (or use tun)',
      },
      {
        path: 'vs.web.sorryServer.address',
        message: '10.97.0.1 uses direct routing but is on none of director "director2"\'s networks (10.99.0.12/24): DR needs the real server on the director\'s segment (or use tun)',
      },
    ]);
  });

  it('checks nothing for directors that do not list their networks, nor NAT real servers', () => {
    expect(checkDesiredState([director('director1'), director('director2'), dr])).toEqual([]);
    const nat = d({ ...dr, forwarding: 'nat', realServers: [{ address: '10.98.0.22', port: 80 }], sorryServer: undefined });
    expect(checkDesiredState([director('director1', ['10.99.0.0/24']), nat])).toEqual([]);
  });
});

describe('checkDesiredState', () => {
  it('accepts a consistent state', () => {
    expect(checkDesiredState([...hosts, web, vrrp('vi-1', { trackVirtualServices: [{ virtualService: 'web' }] })])).toEqual([]);
  });

  it('finds a key defined twice and two services with one address', () => {
    const web2 = d({ ...web, id: 'web2' });
    expect(checkDesiredState([...hosts, web, web, web2])).toEqual([
      { path: 'vs.web', message: 'is defined twice' },
      { path: 'vs.web2.match', message: 'tcp 10.0.0.10 port 80 is already virtual service "web"' },
    ]);
  });

  it('checks host references and roles', () => {
    expect(checkDesiredState([...hosts, vrrp('vi-1', { priorities: { director1: 100, web1: 90, ghost: 80 } })])).toEqual([
      { path: 'vrrp.vi-1.priorities.web1', message: 'host "web1" does not have the director role' },
      { path: 'vrrp.vi-1.priorities.ghost', message: 'host "ghost" is not in the inventory' },
    ]);
  });

  it('checks tracked virtual services, shared VIPs and virtual router ids', () => {
    expect(
      checkDesiredState([
        ...hosts,
        vrrp('vi-1', { trackVirtualServices: [{ virtualService: 'api' }] }),
        vrrp('vi-2', { virtualAddresses: [{ address: '10.0.0.10' }], virtualRouterId: 52 }),
        vrrp('vi-3', { virtualAddresses: [{ address: '10.0.0.11' }] }),
      ]),
    ).toEqual([
      { path: 'vrrp.vi-1.trackVirtualServices[0].virtualService', message: 'virtual service "api" does not exist' },
      { path: 'vrrp.vi-2.virtualAddresses[0].address', message: '10.0.0.10 is already carried by VRRP instance "vi-1"' },
      { path: 'vrrp.vi-3.virtualRouterId', message: '51 on eth0 is already used by VRRP instance "vi-1" on the same director' },
    ]);
  });

  it('allows one router id on different directors or interfaces', () => {
    expect(
      checkDesiredState([
        ...hosts,
        vrrp('vi-1', { priorities: { director1: 100 } }),
        vrrp('vi-2', { priorities: { director2: 100 }, virtualAddresses: [{ address: '10.0.0.11' }] }),
        vrrp('vi-3', { interface: 'eth1', virtualAddresses: [{ address: '10.0.0.12' }] }),
      ]),
    ).toEqual([]);
  });

  it('sync group members run on the same directors', () => {
    expect(
      checkDesiredState([
        ...hosts,
        vrrp('vi-1', { syncGroup: 'g1' }),
        vrrp('vi-2', { syncGroup: 'g1', priorities: { director1: 100 }, virtualRouterId: 52, virtualAddresses: [{ address: '10.0.0.11' }] }),
      ]),
    ).toEqual([{ path: 'vrrp.vi-2.syncGroup', message: 'members of sync group "g1" must run on the same directors as "vi-1"' }]);
  });

  it('replication monitors run on data hosts and read pools exist', () => {
    const cluster = d({
      kind: 'replication-cluster',
      id: 'mysql',
      engine: 'mysql',
      nodes: [
        { name: 'db1', address: '10.0.4.1', port: 3306, role: 'primary' },
        { name: 'db2', address: '10.0.1.1', port: 3306, role: 'replica' },
      ],
      credentials: { user: 'monitor' },
      readPool: { virtualService: 'reads' },
      monitorHosts: ['web1'],
    });
    expect(checkDesiredState([...hosts, web, cluster])).toEqual([
      { path: 'replication.mysql.monitorHosts[0]', message: 'host "web1" does not have the data role' },
      { path: 'replication.mysql.readPool.virtualService', message: 'virtual service "reads" does not exist' },
    ]);
  });
});

describe('checkDesiredState: replication pools', () => {
  const pool = (id: string, port: number, servers: [string, number][]) =>
    d({
      kind: 'virtual-service',
      id,
      match: { kind: 'address', protocol: 'tcp', address: '10.0.0.20', port },
      forwarding: 'nat',
      realServers: servers.map(([address, p]) => ({ address, port: p })),
    });
  const cluster = (patch: Record<string, unknown>) =>
    d({
      kind: 'replication-cluster',
      id: 'db',
      engine: 'mariadb',
      nodes: [
        { name: 'db1', address: '10.0.4.1', port: 3306, role: 'primary' },
        { name: 'db2', address: '10.0.4.2', port: 3306, role: 'replica' },
      ],
      credentials: { user: 'monitor' },
      monitorHosts: ['db1'],
      ...patch,
    });

  it('accepts a write pool over every node and a read pool over the replica', () => {
    const reads = pool('db-read', 3306, [['10.0.4.2', 3306]]);
    const writes = pool('db-write', 3307, [
      ['10.0.4.1', 3306],
      ['10.0.4.2', 3306],
    ]);
    const c = cluster({ readPool: { virtualService: 'db-read' }, writePool: { virtualService: 'db-write' } });
    expect(checkDesiredState([...hosts, reads, writes, c])).toEqual([]);
    expect(referencesTo([reads, writes, c], writes)).toEqual(['replication.db']);
  });

  it('the write pool exists, holds the primary, and nothing that is not a node', () => {
    const c = cluster({ writePool: { virtualService: 'db-write' } });
    expect(checkDesiredState([...hosts, c])).toEqual([{ path: 'replication.db.writePool.virtualService', message: 'virtual service "db-write" does not exist' }]);
    const stranger = pool('db-write', 3307, [
      ['10.0.4.2', 3306],
      ['10.0.4.9', 3306],
    ]);
    expect(checkDesiredState([...hosts, stranger, c])).toEqual([
      { path: 'replication.db.nodes[0]', message: 'primary 10.0.4.1 port 3306 is not a real server of the write pool "db-write"' },
      {
        path: 'replication.db.writePool.virtualService',
        message: 'real server 10.0.4.9 port 3306 of "db-write" is not a node of the cluster: it would take writes without being the primary',
      },
    ]);
  });

  it('a read pool must reach the replica on its own port (ipvs-agent weighs the real server at the node\'s address and port)', () => {
    const reads = pool('db-read', 3306, [['10.0.4.2', 3307]]);
    expect(checkDesiredState([...hosts, reads, cluster({ readPool: { virtualService: 'db-read' } })])).toEqual([
      { path: 'replication.db.nodes[1]', message: 'replica 10.0.4.2 port 3306 is not a real server of the read pool "db-read"' },
    ]);
  });
});

describe('referencesTo', () => {
  it('lists what deleting an object would break', () => {
    const objects = [...hosts, web, vrrp('vi-1', { trackVirtualServices: [{ virtualService: 'web' }] })];
    expect(referencesTo(objects, web)).toEqual(['vrrp.vi-1']);
    expect(referencesTo(objects, hosts[0]!)).toEqual(['vrrp.vi-1']);
    expect(referencesTo(objects, hosts[2]!)).toEqual([]);
  });
});

describe('checkDesiredState: a session store that follows a replication cluster', () => {
  const store = (cluster: string) =>
    d({ kind: 'session-store', id: 'sessions', hosts: ['web1'], upstream: { mode: 'replication', replicationCluster: cluster } });
  const cluster = (id: string, engine: 'redis' | 'mariadb') =>
    d({
      kind: 'replication-cluster',
      id,
      engine,
      nodes: [
        { name: 'r1', address: '10.0.5.1', port: engine === 'redis' ? 6379 : 3306, role: 'primary' },
        { name: 'r2', address: '10.0.5.2', port: engine === 'redis' ? 6379 : 3306, role: 'replica' },
      ],
      ...(engine === 'redis' ? {} : { credentials: { user: 'monitor' } }),
      monitorHosts: ['db1'],
    });

  it('accepts a Redis cluster, which then cannot be deleted unnoticed', () => {
    const redis = cluster('redis-sessions', 'redis');
    expect(checkDesiredState([...hosts, redis, store('redis-sessions')])).toEqual([]);
    expect(referencesTo([redis, store('redis-sessions')], redis)).toEqual(['session-store.sessions']);
  });

  it('names the field when the cluster does not exist or is not a Redis one', () => {
    expect(checkDesiredState([...hosts, store('ghost')])).toEqual([
      { path: 'session-store.sessions.upstream.replicationCluster', message: 'replication cluster "ghost" does not exist' },
    ]);
    expect(checkDesiredState([...hosts, cluster('db', 'mariadb'), store('db')])).toEqual([
      { path: 'session-store.sessions.upstream.replicationCluster', message: 'replication cluster "db" is a mariadb cluster, not redis' },
    ]);
  });
});
