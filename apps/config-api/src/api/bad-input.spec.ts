import { type DesiredObject, desiredObject, parseContract } from '@fulcrum/schemas';
import { seed000, seed001 } from '@fulcrum/schemas/testing';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, TOKENS, startHarness } from '../testing/app-harness.js';

// A corpus of bad requests: wrong types, values out of range, injection strings in names, huge and broken bodies,
// unknown fields, duplicate keys, bad headers. Every one must be a 4xx with a message, none a 5xx, and the stored
// state must not change.

const objects = (): DesiredObject[] => [...seed000, ...seed001.filter((o) => o.kind !== 'host' || !['director1', 'director2'].includes(String(o.name)))]
  .map((o, i) => parseContract(desiredObject, o, `seed[${i}]`))
  .filter((o, i, all) => all.findIndex((x) => x.kind === o.kind && JSON.stringify(x.kind === 'host' ? x.name : x.id) === JSON.stringify(o.kind === 'host' ? o.name : o.id)) === i);

const vs = {
  kind: 'virtual-service',
  id: 'corpus',
  match: { kind: 'address', protocol: 'tcp', address: '10.1.0.1', port: 80 },
  realServers: [{ address: '10.1.1.1', port: 80 }],
};
const vrrp = { kind: 'vrrp-instance', id: 'corpus', interface: 'eth0', virtualRouterId: 99, priorities: { director1: 100 }, virtualAddresses: [{ address: '10.1.0.9' }] };
const hostObj = { kind: 'host', name: 'corpus', roles: ['data'] };
const store = { kind: 'session-store', id: 'corpus', hosts: ['web1'], upstream: { mode: 'direct', master: { address: '10.1.2.1' } } };
const cluster = {
  kind: 'replication-cluster',
  id: 'corpus',
  engine: 'redis',
  nodes: [{ name: 'a', address: '10.1.3.1', port: 6379, role: 'primary' }, { name: 'b', address: '10.1.3.2', port: 6379, role: 'replica' }],
  monitorHosts: ['nope'],
};

const INJECTIONS = ["'; DROP TABLE vs; --", '../../etc/passwd', '$(reboot)', '`id`', '<script>alert(1)</script>', 'a\u0000b', 'VI_1', 'web.prod', 'x'.repeat(64), '名字', ' web', 'web ', '-web', 'web-', '', '{{7*7}}', '%2e%2e%2f', 'web\nadmin'];
const WRONG = [null, true, 1.5, -1, 'text', [], {}, [1, 2], { nested: { deep: 1 } }];

type Case = { name: string; req: InjectOptions };
const cases: Case[] = [];
const json = (method: InjectOptions['method'], url: string, body: unknown, headers: Record<string, string> = {}) => ({
  method,
  url,
  payload: JSON.stringify(body),
  headers: { 'content-type': 'application/json', ...headers },
});
const add = (name: string, req: InjectOptions) => cases.push({ name, req });
const set = (base: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> => {
  const copy = structuredClone(base);
  let at: Record<string, unknown> = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[path[path.length - 1]!] = value;
  return copy;
};

// Wrong types for every top-level field of each kind, on create.
for (const [collection, base] of [['virtual-services', vs], ['vrrp-instances', vrrp], ['hosts', hostObj], ['session-stores', store], ['replication-clusters', cluster]] as const) {
  for (const field of Object.keys(base).filter((k) => k !== 'kind')) {
    for (const wrong of [null, -42.5, 'BAD VALUE!', [{}], { x: 1 }]) {
      if (JSON.stringify(wrong) === JSON.stringify((base as Record<string, unknown>)[field])) continue;
      add(`${collection}: ${field} = ${JSON.stringify(wrong)}`, json('POST', `/v1/${collection}`, set(base, [field], wrong)));
    }
  }
  add(`${collection}: unknown field`, json('POST', `/v1/${collection}`, { ...base, colour: 'blue' }));
  add(`${collection}: wrong kind`, json('POST', `/v1/${collection}`, { ...base, kind: 'virtual-server' }));
  add(`${collection}: body is a list`, json('POST', `/v1/${collection}`, [base]));
  add(`${collection}: body is a string`, json('POST', `/v1/${collection}`, 'hello'));
}
// Out-of-range values.
for (const port of [0, -1, 65536, 1e9, 80.5]) add(`vs port ${port}`, json('POST', '/v1/virtual-services', set(vs, ['match', 'port'], port)));
for (const port of [-1, 65536, 8.5]) add(`rs port ${port}`, json('POST', '/v1/virtual-services', set(vs, ['realServers'], [{ address: '10.1.1.1', port }])));
for (const weight of [-1, 65536, 1.5, '3']) add(`rs weight ${weight}`, json('POST', '/v1/virtual-services', set(vs, ['realServers'], [{ address: '10.1.1.1', port: 80, weight }])));
for (const address of ['10.1.1.256', '10.01.1.1', 'fe80::1%eth0', 'localhost', '::g', '1.2.3', '']) add(`rs address ${address}`, json('POST', '/v1/virtual-services', set(vs, ['realServers'], [{ address, port: 80 }])));
for (const scheduler of ['fastest', 'RR', '', 'wrr ']) add(`scheduler ${scheduler}`, json('POST', '/v1/virtual-services', { ...vs, scheduler }));
for (const v of [0, 256, -5, 1.5]) add(`vrid ${v}`, json('POST', '/v1/vrrp-instances', { ...vrrp, virtualRouterId: v }));
for (const p of [0, 256, -1]) add(`priority ${p}`, json('POST', '/v1/vrrp-instances', { ...vrrp, priorities: { director1: p } }));
for (const a of [0, 0.5, 256, 1.25]) add(`advert ${a}`, json('POST', '/v1/vrrp-instances', { ...vrrp, advertInterval: a }));
add('vrrp password too long', json('POST', '/v1/vrrp-instances', { ...vrrp, authentication: { type: 'pass', password: '123456789' } }));
add('persistence without timeout', json('POST', '/v1/virtual-services', { ...vs, persistencePrefix: 24 }));
add('sh flag with rr', json('POST', '/v1/virtual-services', { ...vs, scheduler: 'rr', schedulerFlags: ['sh-port'] }));
add('dr port change', json('POST', '/v1/virtual-services', { ...vs, forwarding: 'dr', realServers: [{ address: '10.1.1.1', port: 8080 }] }));
add('health check unknown type', json('POST', '/v1/virtual-services', { ...vs, healthChecks: [{ type: 'ldap' }] }));
add('http check without urls', json('POST', '/v1/virtual-services', { ...vs, healthChecks: [{ type: 'http' }] }));
add('forbidden session command', json('POST', '/v1/session-stores', { ...store, allowedCommands: ['FLUSHALL'] }));
// Whole-config rules.
add('duplicate VIP and port', json('POST', '/v1/virtual-services', { ...vs, match: { kind: 'address', protocol: 'tcp', address: '192.168.80.150', port: 80 } }));
add('unknown director', json('POST', '/v1/vrrp-instances', { ...vrrp, priorities: { ghost: 100 } }));
add('cluster monitor host missing', json('POST', '/v1/replication-clusters', cluster));
add('delete a referenced host', { method: 'DELETE', url: '/v1/hosts/director1' });
// Injection strings as ids, in bodies and in URLs.
for (const s of INJECTIONS) {
  add(`vs id ${JSON.stringify(s)}`, json('POST', '/v1/virtual-services', { ...vs, id: s }));
  add(`host name ${JSON.stringify(s)}`, json('POST', '/v1/hosts', { ...hostObj, name: s }));
  add(`PUT url id ${JSON.stringify(s)}`, json('PUT', `/v1/hosts/${encodeURIComponent(s)}`, hostObj));
  add(`GET url id ${JSON.stringify(s)}`, { method: 'GET', url: `/v1/virtual-services/${encodeURIComponent(s)}` });
}
// Broken bodies.
for (const body of ['', '{', '{"kind": "host",}', "{'kind': 'host'}", '{"a": NaN}', '{"a": 1} // c', '[1, 2', 'null', 'true', '"x"', '\uFEFF{}', '{"kind": "host", "name": "x", "roles": ["data"]}}', '{"a": undefined}']) {
  add(`broken JSON ${JSON.stringify(body)}`, { method: 'POST', url: '/v1/hosts', payload: body, headers: { 'content-type': 'application/json' } });
}
add('deep nesting', { method: 'POST', url: '/v1/hosts', payload: '['.repeat(100_000) + ']'.repeat(100_000), headers: { 'content-type': 'application/json' } });
add('huge body', { method: 'POST', url: '/v1/hosts', payload: JSON.stringify({ ...hostObj, description: 'x'.repeat(400_000) }), headers: { 'content-type': 'application/json' } });
add('huge import', { method: 'POST', url: '/v1/import?format=keepalived', payload: '! x\n'.repeat(100_000), headers: { 'content-type': 'text/plain' } });
add('long description', json('POST', '/v1/hosts', { ...hostObj, description: 'x'.repeat(201) }));
// Duplicate and prototype keys.
add('duplicate top key', { method: 'POST', url: '/v1/hosts', payload: '{"kind":"host","name":"a","roles":["data"],"name":"b"}', headers: { 'content-type': 'application/json' } });
add('duplicate nested key', { method: 'POST', url: '/v1/virtual-services', payload: '{"kind":"virtual-service","id":"d","match":{"kind":"address","kind":"fwmark","fwmark":1}}', headers: { 'content-type': 'application/json' } });
add('__proto__ key', { method: 'POST', url: '/v1/hosts', payload: '{"kind":"host","name":"p","roles":["data"],"__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } });
add('constructor key', { method: 'POST', url: '/v1/hosts', payload: '{"kind":"host","name":"p","roles":["data"],"constructor":{"prototype":{}}}', headers: { 'content-type': 'application/json' } });
// Headers, media types, methods, queries.
for (const m of ['abc', '"abc"', 'W/"x"', '-1', '1.5', '"1" "2"']) add(`If-Match ${m}`, json('PUT', '/v1/hosts/web1', { roles: ['realserver'] }, { 'if-match': m }));
add('stale If-Match', json('PUT', '/v1/hosts/web1', { roles: ['realserver'] }, { 'if-match': '"1"' }));
add('If-None-Match etag', json('PUT', '/v1/hosts/web1', { roles: ['realserver'] }, { 'if-none-match': '"3"' }));
add('If-None-Match * on existing', json('PUT', '/v1/hosts/web1', { roles: ['realserver'] }, { 'if-none-match': '*' }));
for (const ct of ['application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) add(`content-type ${ct}`, { method: 'POST', url: '/v1/hosts', payload: 'name=x', headers: { 'content-type': ct } });
add('keepalived import as JSON', json('POST', '/v1/import?format=keepalived', { text: 'x' }));
add('import unknown format', { method: 'POST', url: '/v1/import?format=haproxy', payload: 'x', headers: { 'content-type': 'text/plain' } });
add('import bad host', { method: 'POST', url: '/v1/import?format=keepalived&host=Dir_1', payload: 'x', headers: { 'content-type': 'text/plain' } });
add('keepalived unbalanced', { method: 'POST', url: '/v1/import?format=keepalived', payload: 'vrrp_instance A {\n', headers: { 'content-type': 'text/plain' } });
add('keepalived bad scheduler', { method: 'POST', url: '/v1/import?format=keepalived', payload: 'virtual_server 10.9.0.1 80 {\n lb_algo x\n}\n', headers: { 'content-type': 'text/plain' } });
add('keepalived include', { method: 'POST', url: '/v1/import?format=keepalived', payload: 'include /etc/passwd\n', headers: { 'content-type': 'text/plain' } });
add('ipvsadm garbage', { method: 'POST', url: '/v1/import?format=ipvsadm', payload: '-Q -t x\n', headers: { 'content-type': 'text/plain' } });
add('export unknown format', { method: 'GET', url: '/v1/export?format=xml' });
add('export unknown query', { method: 'GET', url: '/v1/export?format=json&x=1' });
add('list with query', { method: 'GET', url: '/v1/hosts?limit=1' });
add('events bad type', { method: 'GET', url: '/v1/events?type=health,nope' });
add('unknown route', { method: 'GET', url: '/v1/widgets' });
add('wrong method', { method: 'PATCH', url: '/v1/hosts' });
add('patch with array', json('PATCH', '/v1/hosts/web1', [{ op: 'replace' }]));
add('patch breaking a rule', json('PATCH', '/v1/hosts/web1', { roles: [] }));
add('patch unknown object', json('PATCH', '/v1/hosts/ghost', { roles: ['data'] }));
add('delete unknown object', { method: 'DELETE', url: '/v1/vrrp-instances/ghost' });
add('rename through PUT', json('PUT', '/v1/hosts/web1', { name: 'web9', roles: ['realserver'] }));
add('transaction empty', json('POST', '/v1/transactions', { changes: [] }));
add('transaction bad op', json('POST', '/v1/transactions', { changes: [{ op: 'upsert', object: hostObj }] }));
add('transaction half bad', json('POST', '/v1/transactions', { changes: [{ op: 'create', object: hostObj }, { op: 'delete', kind: 'host', id: 'ghost' }] }));
add('transaction stale', json('POST', '/v1/transactions', { changes: [{ op: 'patch', kind: 'host', id: 'web1', patch: { description: 'x' }, ifMatch: 1 }] }));
add('apply with unknown kind', json('POST', '/v1/apply', { objects: [{ kind: 'widget', id: 'x' }] }));
add('apply prune unknown kind', json('POST', '/v1/apply', { objects: [], prune: ['widgets'] }));
add('rs add to unknown vs', json('POST', '/v1/virtual-services/ghost/real-servers', { address: '10.1.1.1', port: 80 }));
add('rs add duplicate', json('POST', '/v1/virtual-services/web/real-servers', { address: '192.168.80.139', port: 80 }));
add('rs bad port in url', { method: 'GET', url: '/v1/virtual-services/web/real-servers/192.168.80.139/http' });
add('drain unknown rs', { method: 'POST', url: '/v1/virtual-services/web/real-servers/10.9.9.9/80/drain' });
add('drain with unknown field', json('POST', '/v1/virtual-services/web/real-servers/192.168.80.139/80/drain', { why: 'x' }));
add('failover unknown instance', { method: 'POST', url: '/v1/vrrp-instances/ghost/failover' });
add('reload unknown host', json('POST', '/v1/operations/reload', { hosts: ['ghost'] }));
// Authentication problems.
add('no token', { method: 'POST', url: '/v1/hosts', payload: JSON.stringify(hostObj), headers: { 'content-type': 'application/json', authorization: '' } });
add('basic auth', { method: 'GET', url: '/v1/hosts', headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
add('token with spaces', { method: 'GET', url: '/v1/hosts', headers: { authorization: 'Bearer a b c' } });
add('reader writes', { method: 'POST', url: '/v1/hosts', payload: JSON.stringify(hostObj), headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.reader}` } });
add('operator deletes', { method: 'DELETE', url: '/v1/hosts/web1', headers: { authorization: `Bearer ${TOKENS.operator}` } });
add('reader drains', { method: 'POST', url: '/v1/virtual-services/web/real-servers/192.168.80.139/80/drain', headers: { authorization: `Bearer ${TOKENS.reader}` } });
// Nested wrong types deep in a virtual service.
for (const w of WRONG) {
  add(`healthChecks[0] = ${JSON.stringify(w)}`, json('POST', '/v1/virtual-services', { ...vs, healthChecks: [w] }));
  add(`realServers[0] = ${JSON.stringify(w)}`, json('POST', '/v1/virtual-services', { ...vs, realServers: [w] }));
}

describe('bad-input corpus', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ objects: objects() });
  });
  afterAll(() => h.app.close());

  it(`has at least 200 requests (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
  });

  it('answers every one with a 4xx and a message, never a 5xx, and changes nothing', async () => {
    const state = h.stateText();
    const commits = h.repo.commits.length;
    const wrong: string[] = [];
    for (const c of cases) {
      const auth = (c.req.headers as Record<string, string> | undefined)?.authorization;
      const headers = { ...(c.req.headers ?? {}), ...(auth === undefined ? { authorization: `Bearer ${TOKENS.admin}` } : {}) };
      if (auth === '') delete (headers as Record<string, string>).authorization;
      const res = await h.app.inject({ ...c.req, headers });
      let body: { message?: unknown; errors?: unknown } = {};
      try {
        body = res.json();
      } catch {
        body = {};
      }
      if (res.statusCode < 400 || res.statusCode >= 500 || typeof body.message !== 'string' || body.message === '' || !Array.isArray(body.errors)) {
        wrong.push(`${c.name}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(h.stateText()).toBe(state);
    expect(h.repo.commits.length).toBe(commits);
  });
});
