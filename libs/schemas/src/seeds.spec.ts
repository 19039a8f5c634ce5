import { describe, expect, it } from 'vitest';
import { checkDesiredState } from './consistency.js';
import { desiredObject, keyOf } from './desired.js';
import type { DesiredObject, DesiredOf } from './desired.js';
import { checkContract, parseContract } from './issues.js';
import { seed000, seed001, seed002, seed003Keepalived, seed003Nat, seed003Piranha, seed004 } from './testing/seeds.js';
import type { DesiredInput } from './testing/seeds.js';

// The seeds' keepalived/ipvsadm setups as Fulcrum objects: each is accepted with keepalived's defaults filled
// in, the whole set is consistent, and realistic mistakes in them are refused with the field and the reason.

const parseAll = (inputs: DesiredInput[]): DesiredObject[] => inputs.map((i) => parseContract(desiredObject, i, 'seed object'));

const find = <K extends DesiredObject['kind']>(objects: DesiredObject[], kind: K, id: string): DesiredOf<K> => {
  const o = objects.find((x) => x.kind === kind && (x.kind === 'host' ? x.name : x.id) === id);
  if (!o) throw new Error(`no ${kind} ${id}`);
  return o as DesiredOf<K>;
};

describe('seed 000: LVS-DR + keepalived, VIP 192.168.80.150', () => {
  const objects = parseAll(seed000);

  it('is accepted whole and consistent', () => {
    expect(objects.map(keyOf)).toEqual(['host.director1', 'host.director2', 'host.web1', 'host.web2', 'vrrp.vi-1', 'vs.web']);
    expect(checkDesiredState(objects)).toEqual([]);
  });

  it('gets keepalived defaults for what the article left out', () => {
    const vs = find(objects, 'virtual-service', 'web');
    expect(vs.quorum).toBe(1);
    expect(vs.hysteresis).toBe(0);
    expect(vs.inhibitOnFailure).toBe(false);
    const check = vs.healthChecks[0];
    expect(check).toMatchObject({ type: 'tcp', interval: 6, connectTimeout: 5, retries: 3, delayBeforeRetry: 3, connectPort: 80 });
    expect(vs.realServers[1]?.healthChecks?.[0]).toMatchObject({ connectTimeout: 10 });
    const vrrp = find(objects, 'vrrp-instance', 'vi-1');
    expect(vrrp).toMatchObject({ version: 2, preempt: true, preemptDelay: 0, unicastPeers: [] });
  });

  const variants: Array<[string, (o: DesiredInput[]) => void, string, RegExp]> = [
    [
      'connect_timeout 0 as written in the article',
      (o) => ((vsIn(o).healthChecks as Record<string, unknown>[])[0]!.connectTimeout = 0),
      'healthChecks[0].connectTimeout',
      /greater than 0/,
    ],
    ['a real server on another port under DR', (o) => (vsIn(o).realServers![1]!.port = 8080), 'realServers[1].port', /service's port 80.*direct routing/],
    ['lb_kind misspelt', (o) => ((vsIn(o) as Record<string, unknown>).forwarding = 'DR'), 'forwarding', /one of: nat, dr, tun/],
    ['a weight beyond 65535', (o) => (vsIn(o).realServers![0]!.weight = 70000), 'realServers[0].weight', /at most 65535/],
    ['the same real server twice', (o) => (vsIn(o).realServers![1]!.address = '192.168.80.139'), 'realServers[1].address', /already realServers\[0\]/],
    ['an auth_pass longer than 8', (o) => (vrrpIn(o).authentication!.password = '123456789'), 'authentication.password', /at most 8 characters/],
    ['virtual_router_id 0', (o) => (vrrpIn(o).virtualRouterId = 0), 'virtualRouterId', /at least 1/],
    ['priority 256', (o) => (vrrpIn(o).priorities!.director1 = 256), 'priorities.director1', /at most 255/],
    ['advert_int 0.5 with VRRPv2', (o) => (vrrpIn(o).advertInterval = 0.5), 'advertInterval', /VRRPv2 adverts are whole seconds/],
    ['a VIP that is not an address', (o) => (vrrpIn(o).virtualAddresses![0]!.address = '192.168.80.300'), 'virtualAddresses[0].address', /not an IPv4 or IPv6 address/],
    [
      "keepalived's spelling of a key",
      (o) => ((vsIn(o) as Record<string, unknown>).persistence_timeout = 50),
      'persistence_timeout',
      /not a known field; did you mean persistenceTimeout\?/,
    ],
    [
      "keepalived's nb_get_retry",
      (o) => ((vsIn(o).healthChecks as Record<string, unknown>[])[0]!.nb_get_retry = 3),
      'healthChecks[0].nb_get_retry',
      /did you mean retries\?/,
    ],
  ];

  it.each(variants)('refuses %s', (_name, mutate, path, message) => {
    const inputs = structuredClone(seed000);
    mutate(inputs);
    const problems = inputs.flatMap((i) => {
      const r = checkContract(desiredObject, i);
      return r.ok ? [] : r.issues;
    });
    expect(problems).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('refuses a VRRP instance whose director is missing from the inventory', () => {
    const objects2 = parseAll(seed000.filter((o) => !(o.kind === 'host' && o.name === 'director2')));
    expect(checkDesiredState(objects2)).toEqual([{ path: 'vrrp.vi-1.priorities.director2', message: 'host "director2" is not in the inventory' }]);
  });
});

function vsIn(o: DesiredInput[]): Extract<DesiredInput, { kind: 'virtual-service' }> {
  const v = o.find((x) => x.kind === 'virtual-service');
  if (!v || v.kind !== 'virtual-service') throw new Error('no virtual service in seed');
  return v;
}
function vrrpIn(o: DesiredInput[]): Extract<DesiredInput, { kind: 'vrrp-instance' }> {
  const v = o.find((x) => x.kind === 'vrrp-instance');
  if (!v || v.kind !== 'vrrp-instance') throw new Error('no VRRP instance in seed');
  return v;
}

describe('seed 001: seven hosts, sessions in Redis, MySQL master/slave read pool', () => {
  const objects = parseAll(seed001);

  it('is accepted whole and consistent', () => {
    expect(checkDesiredState(objects)).toEqual([]);
    const store = find(objects, 'session-store', 'sessions');
    expect(store.listen).toEqual({ address: '127.0.0.1', port: 6379 });
    expect(store.upstream).toEqual({ mode: 'direct', master: { address: '192.168.60.105', port: 6379 }, replicas: [] });
    expect(store.allowedCommands).toContain('SETEX');
    const mysql = find(objects, 'replication-cluster', 'mysql');
    expect(mysql.lag).toEqual({ warnSeconds: 5, maxSeconds: 30 });
  });

  it('refuses a read pool that does not contain the replica', () => {
    const inputs = structuredClone(seed001);
    const pool = inputs.find((o) => o.kind === 'virtual-service' && o.id === 'mysql-read');
    if (pool?.kind !== 'virtual-service') throw new Error('seed changed');
    pool.realServers = [{ address: '192.168.60.103', port: 3306 }];
    expect(checkDesiredState(parseAll(inputs))).toEqual([
      { path: 'replication.mysql.nodes[1]', message: 'replica 192.168.60.104 port 3306 is not a real server of the read pool "mysql-read"' },
    ]);
  });

  it('refuses a session store on a host without the realserver role, and two primaries', () => {
    const inputs = structuredClone(seed001);
    const store = inputs.find((o) => o.kind === 'session-store');
    if (store?.kind !== 'session-store') throw new Error('seed changed');
    store.hosts = ['redis'];
    expect(checkDesiredState(parseAll(inputs))).toEqual([
      { path: 'session-store.sessions.hosts[0]', message: 'host "redis" does not have the realserver role' },
    ]);
    const cluster = inputs.find((o) => o.kind === 'replication-cluster');
    if (cluster?.kind !== 'replication-cluster') throw new Error('seed changed');
    cluster.nodes[1]!.role = 'primary';
    expect(checkContract(desiredObject, cluster)).toEqual({ ok: false, issues: [{ path: 'nodes', message: 'needs exactly one primary (found 2)' }] });
  });
});

describe('seed 002: layer 3/4/5 checks', () => {
  const objects = parseAll(seed002);

  it('is accepted with every check type it describes, digests normalized', () => {
    expect(checkDesiredState(objects)).toEqual([]);
    const http = find(objects, 'virtual-service', 'nginx-http');
    expect(http.healthChecks.map((c) => c.type)).toEqual(['icmp', 'http', 'script']);
    const get = http.healthChecks[1];
    if (get?.type !== 'http') throw new Error('expected http');
    expect(get.urls[0]).toMatchObject({ digest: '9b3a0c85a887a256d6939da88aabd8cd', statusCodes: [200] });
    expect(get).toMatchObject({ delayBeforeRetry: 3, retries: 1, httpVersion: '1.0' });
    const script = http.healthChecks[2];
    expect(script).toMatchObject({ type: 'script', retries: 0, timeout: 5 });
    const https = find(objects, 'virtual-service', 'nginx-https').healthChecks[0];
    expect(https).toMatchObject({ type: 'https', sni: true, verifyTls: false, urls: [{ path: '/', statusCodes: ['200-299'] }] });
  });

  it('refuses a digest that genhash would not print, and a relative script path', () => {
    const inputs = structuredClone(seed002);
    const vs = inputs.find((o) => o.kind === 'virtual-service' && o.id === 'nginx-http');
    if (vs?.kind !== 'virtual-service') throw new Error('seed changed');
    const checks = vs.healthChecks as Record<string, unknown>[];
    (checks[1]!.urls as Record<string, unknown>[])[0]!.digest = 'abc123';
    checks[2]!.path = 'checks/nginx-status.sh';
    const r = checkContract(desiredObject, vs);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([
      { path: 'healthChecks[1].urls[0].digest', message: 'must be an MD5 digest: 32 hex digits (as genhash prints it)' },
      { path: 'healthChecks[2].path', message: 'must be an absolute path (starting with "/")' },
    ]);
  });
});

describe('seed 003: ipvsadm NAT, keepalived DR, Piranha firewall marks', () => {
  it('accepts the NAT service and its later edit to wlc with weights 1 and 5', () => {
    const vs = parseContract(desiredObject, seed003Nat);
    expect(vs).toMatchObject({ forwarding: 'nat', scheduler: 'rr' });
    const edited = structuredClone(seed003Nat);
    if (edited.kind !== 'virtual-service') throw new Error('seed changed');
    edited.scheduler = 'wlc';
    edited.realServers![1]!.weight = 5;
    expect(checkContract(desiredObject, edited).ok).toBe(true);
  });

  it('NAT may change the port where DR may not', () => {
    const nat = structuredClone(seed003Nat);
    if (nat.kind !== 'virtual-service') throw new Error('seed changed');
    nat.realServers![0]!.port = 8080;
    expect(checkContract(desiredObject, nat).ok).toBe(true);
    nat.forwarding = 'dr';
    expect(checkContract(desiredObject, nat)).toEqual({
      ok: false,
      issues: [{ path: 'realServers[0].port', message: "must be the service's port 80: direct routing cannot change the port (got 8080)" }],
    });
  });

  it('accepts the keepalived setup with a VIP on another interface and prefix', () => {
    const objects = parseAll(seed003Keepalived);
    expect(find(objects, 'vrrp-instance', 'vi-1').virtualAddresses).toEqual([{ address: '192.168.122.254', prefix: 24, interface: 'eth1' }]);
    expect(checkDesiredState(objects)).toEqual([]);
  });

  it('accepts the Piranha firewall-mark service and refuses a mark of 0', () => {
    const vs = parseContract(desiredObject, seed003Piranha);
    expect(vs).toMatchObject({ match: { kind: 'fwmark', fwmark: 81, family: 'inet' } });
    const bad = structuredClone(seed003Piranha);
    if (bad.kind !== 'virtual-service' || bad.match.kind !== 'fwmark') throw new Error('seed changed');
    bad.match.fwmark = 0;
    expect(checkContract(desiredObject, bad)).toEqual({ ok: false, issues: [{ path: 'match.fwmark', message: 'must be at least 1' }] });
  });

  it('refuses a VIP prefix longer than IPv4 allows', () => {
    const inputs = structuredClone(seed003Keepalived);
    const v = vrrpIn(inputs);
    v.virtualAddresses![0]!.prefix = 33;
    expect(checkContract(desiredObject, v)).toEqual({
      ok: false,
      issues: [{ path: 'virtualAddresses[0].prefix', message: '33 is longer than an IPv4 prefix (at most 32)' }],
    });
  });
});

describe('seed 004: the three-tier walkthrough', () => {
  it('is accepted, and refuses a real server of the other family without a tunnel', () => {
    expect(checkContract(desiredObject, seed004).ok).toBe(true);
    const bad = structuredClone(seed004);
    if (bad.kind !== 'virtual-service') throw new Error('seed changed');
    bad.realServers![0]!.address = '2001:db8::100';
    expect(checkContract(desiredObject, bad)).toEqual({
      ok: false,
      issues: [{ path: 'realServers[0].address', message: 'is IPv6 but the service is IPv4: mixing families needs the tun forwarding method' }],
    });
  });
});
