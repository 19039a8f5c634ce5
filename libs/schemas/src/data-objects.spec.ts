import { describe, expect, it } from 'vitest';
import { host } from './host.js';
import { checkContract } from './issues.js';
import { replicationCluster } from './replication.js';
import { DEFAULT_SESSION_COMMANDS, sessionStore } from './session-store.js';

const problemsOf = (schema: Parameters<typeof checkContract>[0], value: unknown) => {
  const r = checkContract(schema, value);
  return r.ok ? [] : r.issues;
};

describe('session store', () => {
  const base = () =>
    ({
      kind: 'session-store',
      id: 'sessions',
      hosts: ['tomcat1'],
      upstream: { mode: 'direct', master: { address: '10.0.3.5' } },
    }) as Record<string, unknown>;

  it('defaults: loopback listener, Redis port, database 0, the session command set', () => {
    const s = sessionStore.parse(base());
    expect(s.listen).toEqual({ address: '127.0.0.1', port: 6379 });
    expect(s.database).toBe(0);
    expect(s.readFromReplicas).toBe(false);
    expect(s.allowedCommands).toEqual([...DEFAULT_SESSION_COMMANDS]);
  });

  it('Sentinel upstream: sentinels on 26379, a master name', () => {
    const s = sessionStore.parse({ ...base(), upstream: { mode: 'sentinel', sentinels: [{ address: '10.0.3.6' }], masterName: 'mymaster', sentinelPassword: 's3cret' } });
    expect(s.upstream).toEqual({ mode: 'sentinel', sentinels: [{ address: '10.0.3.6', port: 26379 }], masterName: 'mymaster', sentinelPassword: 's3cret' });
    expect(problemsOf(sessionStore, { ...base(), upstream: { mode: 'sentinel', sentinels: [], masterName: 'my master' } })).toEqual([
      { path: 'upstream.sentinels', message: 'needs at least one sentinel' },
      { path: 'upstream.masterName', message: 'must be a Sentinel master name (letters, digits, . _ -)' },
    ]);
    expect(problemsOf(sessionStore, { ...base(), upstream: { mode: 'cluster' } })).toEqual([{ path: 'upstream.mode', message: 'must be one of: direct, sentinel, replication' }]);
  });

  it('replication upstream: the id of the replication cluster whose master the monitor reports', () => {
    const s = sessionStore.parse({ ...base(), upstream: { mode: 'replication', replicationCluster: 'redis-sessions' } });
    expect(s.upstream).toEqual({ mode: 'replication', replicationCluster: 'redis-sessions' });
    expect(problemsOf(sessionStore, { ...base(), upstream: { mode: 'replication' } })).toEqual([{ path: 'upstream.replicationCluster', message: 'is required' }]);
    expect(problemsOf(sessionStore, { ...base(), upstream: { mode: 'replication', replicationCluster: 'Redis Sessions' } })).toEqual([
      { path: 'upstream.replicationCluster', message: expect.stringMatching(/lowercase/) },
    ]);
    // A master address belongs to the direct mode: here the monitor says where the master is.
    expect(problemsOf(sessionStore, { ...base(), upstream: { mode: 'replication', replicationCluster: 'r', master: { address: '10.0.3.5' } } })).toEqual([
      { path: 'upstream.master', message: 'is not a known field (check its spelling)' },
    ]);
  });

  it('allowed commands are uppercased, never administrative, each once', () => {
    expect(sessionStore.parse({ ...base(), allowedCommands: ['get', 'Set'] }).allowedCommands).toEqual(['GET', 'SET']);
    expect(problemsOf(sessionStore, { ...base(), allowedCommands: ['GET', 'flushall', 'get'] })).toEqual([
      { path: 'allowedCommands[1]', message: 'FLUSHALL administers or wipes the server and cannot be allowed' },
      { path: 'allowedCommands[2]', message: 'GET is listed twice' },
    ]);
    expect(problemsOf(sessionStore, { ...base(), allowedCommands: ['GET SET'] })).toEqual([
      { path: 'allowedCommands[0]', message: 'must be a Redis command name such as GET' },
    ]);
  });

  it('replica reads need replicas; a replica is not the master; hosts are listed once', () => {
    expect(problemsOf(sessionStore, { ...base(), readFromReplicas: true })).toEqual([
      { path: 'readFromReplicas', message: 'needs at least one replica in upstream.replicas' },
    ]);
    expect(problemsOf(sessionStore, { ...base(), upstream: { mode: 'direct', master: { address: '10.0.3.5' }, replicas: [{ address: '10.0.3.5', port: 6379 }] } })).toEqual([
      { path: 'upstream.replicas[0]', message: 'is the master itself' },
    ]);
    expect(problemsOf(sessionStore, { ...base(), hosts: ['tomcat1', 'tomcat1'] })).toEqual([{ path: 'hosts', message: 'lists a host twice' }]);
    expect(problemsOf(sessionStore, { ...base(), hosts: [] })).toEqual([{ path: 'hosts', message: 'needs at least one backend host' }]);
  });
});

describe('replication cluster', () => {
  const base = () =>
    ({
      kind: 'replication-cluster',
      id: 'mysql',
      engine: 'mariadb',
      nodes: [
        { name: 'db1', address: '10.0.4.1', port: 3306, role: 'primary' },
        { name: 'db2', address: '10.0.4.2', port: 3306, role: 'replica' },
      ],
      credentials: { user: 'monitor', password: 'pw' },
      monitorHosts: ['data1'],
    }) as Record<string, unknown>;

  it('defaults: check every 5 s, warn at 5 s lag, out at 30 s', () => {
    expect(replicationCluster.parse(base())).toMatchObject({ checkInterval: 5, lag: { warnSeconds: 5, maxSeconds: 30 } });
  });

  it('exactly one primary, unique names and endpoints, ordered lag thresholds', () => {
    const nodes = base().nodes as Record<string, unknown>[];
    expect(problemsOf(replicationCluster, { ...base(), nodes: nodes.map((n) => ({ ...n, role: 'replica' })) })).toEqual([
      { path: 'nodes', message: 'needs exactly one primary (found 0)' },
    ]);
    expect(problemsOf(replicationCluster, { ...base(), nodes: [nodes[0], { ...nodes[1], name: 'db1', address: '10.0.4.1' }] })).toEqual([
      { path: 'nodes[1].name', message: '"db1" is already nodes[0]' },
      { path: 'nodes[1].address', message: '10.0.4.1 port 3306 is already nodes[0]' },
    ]);
    expect(problemsOf(replicationCluster, { ...base(), lag: { warnSeconds: 60, maxSeconds: 30 } })).toEqual([
      { path: 'lag.warnSeconds', message: '(60) must not exceed maxSeconds (30)' },
    ]);
    expect(problemsOf(replicationCluster, { ...base(), nodes: [nodes[0]] })).toEqual([{ path: 'nodes', message: 'needs a primary and at least one replica' }]);
  });

  it('Sentinel names the group for Redis only, with at least one sentinel on 26379 by default', () => {
    const sentinel = { masterName: 'sessions', sentinels: [{ address: '10.0.4.9' }], sentinelPassword: 's3cret' };
    expect(replicationCluster.parse({ ...base(), engine: 'redis', sentinel }).sentinel).toEqual({ ...sentinel, sentinels: [{ address: '10.0.4.9', port: 26379 }] });
    expect(problemsOf(replicationCluster, { ...base(), sentinel })).toEqual([{ path: 'sentinel', message: 'is for redis clusters only (engine is mariadb)' }]);
    expect(problemsOf(replicationCluster, { ...base(), engine: 'redis', sentinel: { masterName: 'my master', sentinels: [] } })).toEqual([
      { path: 'sentinel.masterName', message: 'must be a Sentinel master name (letters, digits, . _ -)' },
      { path: 'sentinel.sentinels', message: 'needs at least one sentinel' },
    ]);
  });

  it('a write pool is a virtual service of its own, not the read pool', () => {
    expect(replicationCluster.parse({ ...base(), readPool: { virtualService: 'db-read' }, writePool: { virtualService: 'db-write' } }).writePool).toEqual({
      virtualService: 'db-write',
    });
    expect(problemsOf(replicationCluster, { ...base(), readPool: { virtualService: 'db' }, writePool: { virtualService: 'db' } })).toEqual([
      { path: 'writePool.virtualService', message: '"db" is the read pool too: the write pool holds the primary only, the read pool the replicas' },
    ]);
    expect(problemsOf(replicationCluster, { ...base(), writePool: { virtualService: 'DB Write' } })).toEqual([
      {
        path: 'writePool.virtualService',
        message: 'must be 1-63 characters of lowercase letters, digits and "-", starting and ending with a letter or digit (no dots, spaces or capitals)',
      },
    ]);
  });

  it('MySQL/MariaDB need a user; Redis does not', () => {
    expect(problemsOf(replicationCluster, { ...base(), credentials: undefined })).toEqual([
      { path: 'credentials.user', message: 'is required to log in to mariadb' },
    ]);
    expect(problemsOf(replicationCluster, { ...base(), engine: 'redis', credentials: undefined })).toEqual([]);
    expect(problemsOf(replicationCluster, { ...base(), engine: 'postgres' })).toEqual([{ path: 'engine', message: 'must be one of: mysql, mariadb, redis' }]);
  });
});

describe('host', () => {
  it('has a slug name and at least one distinct role', () => {
    expect(host.parse({ kind: 'host', name: 'director1', roles: ['director'], address: '10.0.0.2' })).toEqual({
      kind: 'host',
      name: 'director1',
      roles: ['director'],
      address: '10.0.0.2',
    });
    expect(problemsOf(host, { kind: 'host', name: 'lvs.master', roles: [] })).toEqual([
      {
        path: 'name',
        message: 'must be 1-63 characters of lowercase letters, digits and "-", starting and ending with a letter or digit (no dots, spaces or capitals)',
      },
      { path: 'roles', message: 'needs at least one role: director, realserver or data' },
    ]);
    expect(problemsOf(host, { kind: 'host', name: 'h1', roles: ['director', 'director'] })).toEqual([{ path: 'roles', message: 'lists a role twice' }]);
    expect(problemsOf(host, { kind: 'host', name: 'h1', roles: ['router'] })).toEqual([{ path: 'roles[0]', message: 'must be one of: director, realserver, data' }]);
  });

  it("lists the host's networks as prefixes, IPv6 canonical", () => {
    const h = host.parse({ kind: 'host', name: 'director1', roles: ['director'], networks: ['10.99.0.11/24', 'FD00:0::/64'] });
    expect(h.networks).toEqual(['10.99.0.11/24', 'fd00::/64']);
    expect(problemsOf(host, { kind: 'host', name: 'h1', roles: ['director'], networks: ['10.0.0.0', '10.0.0.0/33', 'fd00::/129', 'x/8', '10.0.0.0/24'] })).toEqual([
      { path: 'networks[0]', message: '"10.0.0.0" is not an address prefix such as 10.0.0.0/24 or fd00::/64' },
      { path: 'networks[1]', message: '"10.0.0.0/33" is not an address prefix such as 10.0.0.0/24 or fd00::/64' },
      { path: 'networks[2]', message: '"fd00::/129" is not an address prefix such as 10.0.0.0/24 or fd00::/64' },
      { path: 'networks[3]', message: '"x/8" is not an address prefix such as 10.0.0.0/24 or fd00::/64' },
    ]);
    expect(problemsOf(host, { kind: 'host', name: 'h1', roles: ['director'], networks: ['10.0.0.0/24', 'fd00::/64', '10.0.0.0/24'] })).toEqual([
      { path: 'networks[2]', message: '10.0.0.0/24 is listed twice' },
    ]);
    expect(problemsOf(host, { kind: 'host', name: 'h1', roles: ['director'], networks: [] })).toEqual([{ path: 'networks', message: 'lists no network: leave it out instead' }]);
  });
});
