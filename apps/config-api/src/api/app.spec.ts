import { readFileSync } from 'node:fs';
import { type DesiredObject, desiredObject, makeEvent, parseContract } from '@fulcrum/schemas';
import { seed000 } from '@fulcrum/schemas/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../testing/app-harness.js';
import { ERROR_CODES } from './errors.js';

const seed = (): DesiredObject[] => seed000.map((o, i) => parseContract(desiredObject, o, `seed000[${i}]`));
const json = (body: unknown) => ({ payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const web = {
  kind: 'virtual-service',
  id: 'api',
  match: { kind: 'address', protocol: 'tcp', address: '192.168.80.151', port: 443 },
  scheduler: 'rr',
  realServers: [{ address: '192.168.80.139', port: 443 }],
};

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ objects: seed() });
});
afterEach(() => h.app.close());

describe('authentication and roles', () => {
  it('refuses a request without a token or with an unknown one (401), and a role below the route (403)', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/v1/hosts' })).statusCode).toBe(401);
    const unknown = await h.app.inject({ method: 'GET', url: '/v1/hosts', headers: { authorization: 'Bearer nope' } });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await h.as('reader', { method: 'GET', url: '/v1/hosts' })).statusCode).toBe(200);
    const write = await h.as('reader', { method: 'POST', url: '/v1/virtual-services', ...json(web) });
    expect(write.statusCode).toBe(403);
    expect(write.json().message).toMatch(/reader role; this needs admin/);
    expect((await h.as('operator', { method: 'DELETE', url: '/v1/virtual-services/web' })).statusCode).toBe(403);
  });

  it('rate-limits failed authentications per address with 429 and Retry-After', async () => {
    await h.app.close();
    h = await startHarness({ authLimit: 3 });
    for (let i = 0; i < 3; i++) expect((await h.app.inject({ method: 'GET', url: '/v1/hosts', headers: { authorization: 'Bearer bad' } })).statusCode).toBe(401);
    const limited = await h.as('admin', { method: 'GET', url: '/v1/hosts' });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('never logs a token', async () => {
    await h.as('admin', { method: 'GET', url: '/v1/hosts' });
    await h.app.inject({ method: 'GET', url: '/v1/hosts', headers: { authorization: 'Bearer secret-guess-1234' } });
    expect(JSON.stringify(h.logs)).not.toMatch(/admin-token|secret-guess/);
  });
});

describe('resources', () => {
  it('creates, reads (with an ETag), lists, replaces with If-Match, patches and deletes', async () => {
    const created = await h.as('admin', { method: 'POST', url: '/v1/virtual-services', ...json(web) });
    expect(created.statusCode).toBe(201);
    const rev = Number(JSON.parse(created.headers.etag as string));
    expect(created.json()).toMatchObject({ key: 'vs.api', revision: rev, object: { scheduler: 'rr', forwarding: 'nat' } });

    const got = await h.as('reader', { method: 'GET', url: '/v1/virtual-services/api' });
    expect(got.headers.etag).toBe(`"${rev}"`);
    const list = await h.as('reader', { method: 'GET', url: '/v1/virtual-services' });
    expect(list.json().items.map((i: { key: string }) => i.key)).toEqual(['vs.api', 'vs.web']);

    const replaced = await h.as('admin', { method: 'PUT', url: '/v1/virtual-services/api', ...json({ ...web, scheduler: 'wlc' }), headers: { 'content-type': 'application/json', 'if-match': `"${rev}"` } });
    expect(replaced.statusCode).toBe(200);
    const rev2 = Number(JSON.parse(replaced.headers.etag as string));
    expect(rev2).toBeGreaterThan(rev);

    const stale = await h.as('admin', { method: 'PUT', url: '/v1/virtual-services/api', ...json(web), headers: { 'content-type': 'application/json', 'if-match': `"${rev}"` } });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'STALE_REVISION', expected: rev, actual: rev2 });

    const patched = await h.as('admin', {
      method: 'PATCH',
      url: '/v1/virtual-services/api',
      payload: JSON.stringify({ persistenceTimeout: 300 }),
      headers: { 'content-type': 'application/merge-patch+json', 'if-match': `"${rev2}"` },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().object).toMatchObject({ scheduler: 'wlc', persistenceTimeout: 300 });

    expect((await h.as('admin', { method: 'DELETE', url: '/v1/virtual-services/api', headers: { 'if-match': '"1"' } })).statusCode).toBe(409);
    expect((await h.as('admin', { method: 'PUT', url: '/v1/virtual-services/nope', ...json(web), headers: { 'content-type': 'application/json', 'if-match': '*' } })).statusCode).toBe(404);
    expect((await h.as('admin', { method: 'DELETE', url: '/v1/virtual-services/api' })).statusCode).toBe(204);
    expect((await h.as('reader', { method: 'GET', url: '/v1/virtual-services/api' })).statusCode).toBe(404);
  });

  it('creates with PUT, refuses a second create (POST or If-None-Match: *) with 409', async () => {
    const put = await h.as('admin', { method: 'PUT', url: '/v1/hosts/web3', ...json({ roles: ['realserver'] }) });
    expect(put.statusCode).toBe(201);
    expect(put.json().object).toEqual({ kind: 'host', name: 'web3', roles: ['realserver'] });
    const again = await h.as('admin', { method: 'POST', url: '/v1/hosts', ...json({ name: 'web3', roles: ['realserver'] }) });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('ALREADY_EXISTS');
    const none = await h.as('admin', { method: 'PUT', url: '/v1/hosts/web3', ...json({ roles: ['data'] }), headers: { 'content-type': 'application/json', 'if-none-match': '*' } });
    expect(none.statusCode).toBe(409);
  });

  it('answers bad input with 400 and a path per problem, including did-you-mean for keepalived spellings', async () => {
    const r = await h.as('admin', {
      method: 'POST',
      url: '/v1/virtual-services',
      ...json({ ...web, id: 'API', lb_algo: 'rr', realServers: [{ address: '10.0.0.300', port: 70000 }] }),
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('INVALID_REQUEST');
    expect(r.json().errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'id' }),
        { path: 'lb_algo', message: 'is not a known field; did you mean scheduler?' },
        expect.objectContaining({ path: 'realServers[0].address', message: expect.stringMatching(/not an IPv4 or IPv6 address/) }),
        { path: 'realServers[0].port', message: 'must be at most 65535' },
      ]),
    );
  });

  it('refuses a write that breaks a whole-config rule (a VIP and port used twice) with INVALID_STATE', async () => {
    const r = await h.as('admin', { method: 'POST', url: '/v1/virtual-services', ...json({ ...web, match: { kind: 'address', protocol: 'tcp', address: '192.168.80.150', port: 80 } }) });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'INVALID_STATE', errors: [{ path: 'vs.api.match', message: 'tcp 192.168.80.150 port 80 is already virtual service "web"' }] });
  });

  it("refuses a director's networks that leave a DR real server off its segment, and keeps the host as it was", async () => {
    const patch = (name: string, networks: string[]) =>
      h.as('admin', { method: 'PATCH', url: `/v1/hosts/${name}`, payload: JSON.stringify({ networks }), headers: { 'content-type': 'application/merge-patch+json' } });
    expect((await patch('director1', ['192.168.80.0/24'])).statusCode).toBe(200);
    const r = await patch('director2', ['10.0.0.0/8']);
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({
      code: 'INVALID_STATE',
      errors: [
        { path: 'vs.web.realServers[0].address', message: expect.stringContaining('192.168.80.139 uses direct routing but is on none of director "director2"\'s networks (10.0.0.0/8)') },
        { path: 'vs.web.realServers[1].address', message: expect.stringContaining('192.168.80.140 uses direct routing') },
      ],
    });
    expect((await h.as('reader', { method: 'GET', url: '/v1/hosts/director2' })).json().object).not.toHaveProperty('networks');
  });

  it('refuses to delete what others refer to (409 REFERENCED, with the list)', async () => {
    const r = await h.as('admin', { method: 'DELETE', url: '/v1/hosts/director1' });
    expect(r.statusCode).toBe(409);
    expect(r.json()).toMatchObject({ code: 'REFERENCED', referencedBy: ['vrrp.vi-1'] });
  });

  it('never returns secrets, and keeps the stored one when a read object is sent back', async () => {
    const got = await h.as('reader', { method: 'GET', url: '/v1/vrrp-instances/vi-1' });
    expect(got.json().object.authentication).toEqual({ type: 'pass', password: '[redacted]' });
    expect(got.body).not.toContain('1111');
    const back = await h.as('admin', { method: 'PUT', url: '/v1/vrrp-instances/vi-1', ...json({ ...got.json().object, advertInterval: 2 }) });
    expect(back.statusCode).toBe(200);
    const stored = h.repo.snapshot().objects.get('vrrp.vi-1')?.value;
    expect(stored?.kind === 'vrrp-instance' && [stored.advertInterval, stored.authentication?.password]).toEqual([2, '1111']);
    const fresh = await h.as('admin', { method: 'POST', url: '/v1/vrrp-instances', ...json({ ...got.json().object, id: 'vi-2', virtualRouterId: 52, virtualAddresses: [{ address: '192.168.80.160' }] }) });
    expect(fresh.statusCode).toBe(400);
    expect(fresh.json().errors[0]).toMatchObject({ path: 'authentication.password' });
    expect(JSON.stringify(h.logs)).not.toContain('1111');
  });
});

describe('real servers', () => {
  it('lists, adds, reads, patches and removes real servers under their service revision', async () => {
    const list = await h.as('reader', { method: 'GET', url: '/v1/virtual-services/web/real-servers' });
    expect(list.json().items).toHaveLength(2);
    const add = await h.as('admin', { method: 'POST', url: '/v1/virtual-services/web/real-servers', ...json({ address: '192.168.80.141', port: 80, weight: 2 }) });
    expect(add.statusCode).toBe(201);
    expect(add.json().realServer).toMatchObject({ address: '192.168.80.141', weight: 2 });
    const bad = await h.as('admin', { method: 'POST', url: '/v1/virtual-services/web/real-servers', ...json({ address: '192.168.80.142', port: 8080 }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].message).toMatch(/direct routing cannot change the port/);
    const put = await h.as('admin', { method: 'PUT', url: '/v1/virtual-services/web/real-servers/192.168.80.141/80', ...json({ address: '192.168.80.141', port: 80, weight: 4, upperThreshold: 100 }) });
    expect(put.json().realServer).toMatchObject({ weight: 4, upperThreshold: 100 });
    const stale = await h.as('admin', { method: 'PUT', url: '/v1/virtual-services/web/real-servers/192.168.80.141/80', ...json({ address: '192.168.80.141', port: 80 }), headers: { 'content-type': 'application/json', 'if-match': add.headers.etag as string } });
    expect(stale.statusCode).toBe(409);
    const patch = await h.as('admin', { method: 'PATCH', url: '/v1/virtual-services/web/real-servers/192.168.80.141/80', ...json({ weight: 5 }) });
    expect(patch.json().realServer.weight).toBe(5);
    expect((await h.as('reader', { method: 'GET', url: '/v1/virtual-services/web/real-servers/192.168.80.141/80' })).json().realServer.weight).toBe(5);
    expect((await h.as('admin', { method: 'DELETE', url: '/v1/virtual-services/web/real-servers/192.168.80.141/80' })).statusCode).toBe(204);
    expect((await h.as('reader', { method: 'GET', url: '/v1/virtual-services/web/real-servers/192.168.80.141/80' })).statusCode).toBe(404);
    expect((await h.as('reader', { method: 'GET', url: '/v1/virtual-services/nope/real-servers' })).statusCode).toBe(404);
  });
});

describe('transactions', () => {
  it('commits many changes as one generation', async () => {
    const before = h.repo.commits.length;
    const r = await h.as('admin', {
      method: 'POST',
      url: '/v1/transactions',
      ...json({
        changes: [
          { op: 'create', object: web },
          { op: 'create', object: { kind: 'host', name: 'web3', roles: ['realserver'] } },
          { op: 'patch', kind: 'virtual-service', id: 'web', patch: { scheduler: 'rr' } },
        ],
      }),
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().changes.map((c: { key: string; action: string }) => `${c.action} ${c.key}`)).toEqual(['create vs.api', 'create host.web3', 'update vs.web']);
    expect(h.repo.commits.length).toBe(before + 1);
    expect(h.repo.commits.at(-1)?.changes).toHaveLength(3);
  });

  it('leaves nothing behind when one change is invalid, and names it by its index', async () => {
    const state = h.stateText();
    const r = await h.as('admin', {
      method: 'POST',
      url: '/v1/transactions',
      ...json({ changes: [{ op: 'create', object: web }, { op: 'create', object: { kind: 'host', name: 'x', roles: ['chef'] } }] }),
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors[0].path).toBe('changes[1].object.roles[0]');
    expect(h.stateText()).toBe(state);
  });

  it('plans without writing on dryRun, showing before and after without secrets', async () => {
    const state = h.stateText();
    const r = await h.as('admin', { method: 'POST', url: '/v1/transactions', ...json({ dryRun: true, changes: [{ op: 'patch', kind: 'vrrp-instance', id: 'vi-1', patch: { advertInterval: 3 } }] }) });
    expect(r.json()).toMatchObject({ committed: false, changes: [{ key: 'vrrp.vi-1', action: 'update', after: { advertInterval: 3, authentication: { password: '[redacted]' } } }] });
    expect(h.stateText()).toBe(state);
  });

  it('applies a declarative list: unchanged objects stay, prune deletes what is not listed', async () => {
    const objects = (await h.as('reader', { method: 'GET', url: '/v1/export?format=json' })).json().objects as Record<string, unknown>[];
    const same = await h.as('admin', { method: 'POST', url: '/v1/apply', ...json({ objects }) });
    expect(same.json().changes.every((c: { action: string }) => c.action === 'unchanged')).toBe(true);
    expect(same.json().committed).toBe(false);
    const pruned = await h.as('admin', { method: 'POST', url: '/v1/apply', ...json({ objects: objects.filter((o) => o.name !== 'web2'), prune: ['host'] }) });
    expect(pruned.json().changes.filter((c: { action: string }) => c.action === 'delete').map((c: { key: string }) => c.key)).toEqual(['host.web2']);
  });
});

describe('import and export', () => {
  const seedConf = readFileSync(new URL('../../../../libs/formats/src/keepalived/fixtures/seed-000.conf', import.meta.url), 'utf8');

  it('imports the seed keepalived.conf in one generation, with warnings by line', async () => {
    await h.app.close();
    h = await startHarness();
    const r = await h.as('admin', { method: 'POST', url: '/v1/import?format=keepalived&host=lvs1', payload: seedConf, headers: { 'content-type': 'text/plain' } });
    expect(r.statusCode).toBe(200);
    expect(r.json().changes.map((c: { key: string }) => c.key)).toEqual(['host.lvs1', 'vrrp.vi-1', 'vs.tcp-192-168-80-150-80']);
    expect(r.json().warnings).toEqual(expect.arrayContaining([expect.objectContaining({ line: 30, message: expect.stringMatching(/^nat_mask is obsolete/) })]));
    expect(h.repo.commits).toHaveLength(1);
  });

  it('exports keepalived.conf per director without the password; importing it back changes nothing and keeps the password', async () => {
    await h.app.close();
    h = await startHarness();
    const post = (text: string) => h.as('admin', { method: 'POST', url: '/v1/import?format=keepalived&host=lvs1', payload: text, headers: { 'content-type': 'text/plain' } });
    expect((await post(seedConf)).statusCode).toBe(200);
    const text = (await h.as('reader', { method: 'GET', url: '/v1/export?format=keepalived&host=lvs1' })).body;
    expect(text).toContain('state MASTER');
    expect(text).toContain('priority 100');
    expect(text).toContain('auth_pass [redacted]');
    const state = h.stateText();
    const again = await post(text);
    expect(again.statusCode).toBe(200);
    expect(again.json().changes.map((c: { action: string }) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(h.stateText()).toBe(state);
    expect(state).toContain('"password":"1111"');
  });

  it('refuses an export to keepalived.conf without the director it is for', async () => {
    const r = await h.as('reader', { method: 'GET', url: '/v1/export?format=keepalived' });
    expect(r.json()).toMatchObject({ code: 'INVALID_REQUEST', errors: [{ path: 'query.host' }] });
  });

  it('warns, without refusing, about a VIP no VRRP instance carries (the mistake in seed 003)', async () => {
    await h.app.close();
    h = await startHarness();
    const conf = readFileSync(new URL('../../../../libs/formats/src/keepalived/fixtures/seed-003.conf', import.meta.url), 'utf8');
    const r = await h.as('admin', { method: 'POST', url: '/v1/import?format=keepalived', payload: conf, headers: { 'content-type': 'text/plain' } });
    expect(r.statusCode).toBe(200);
    expect(r.json().warnings).toContainEqual({
      path: 'vs.tcp-192-168-100-215-80.match.address',
      message: '192.168.100.215 is not carried by any VRRP instance (they carry 192.168.122.254): no director will hold this VIP',
    });
    const created = await h.as('admin', { method: 'POST', url: '/v1/virtual-services', ...json(web) });
    expect(created.statusCode).toBe(201);
    expect(created.json().warnings[0].path).toBe('vs.api.match.address');
  });

  it('gives keepalived.conf errors with line:column and changes nothing', async () => {
    const r = await h.as('admin', { method: 'POST', url: '/v1/import?format=keepalived', payload: 'virtual_server 10.0.0.1 80 {\n  lb_kind BRIDGE\n}\n', headers: { 'content-type': 'text/plain' } });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors).toEqual([{ path: 'line 2:3', message: 'lb_kind: "BRIDGE" must be NAT, DR or TUN' }]);
  });

  it('follows includes among the files sent with keepalived.conf, in glob order, with file and line in warnings and errors', async () => {
    await h.app.close();
    h = await startHarness();
    const vs = (port: number, extra = '') => `virtual_server 10.0.0.100 ${port} {\n  lb_kind DR\n  protocol TCP\n${extra}  real_server 10.0.0.21 ${port} {\n    weight 1\n  }\n}\n`;
    const body = {
      file: '/etc/keepalived/keepalived.conf',
      text: 'include conf.d/*.conf\ninclude empty.d/*.conf\n',
      files: { '/etc/keepalived/conf.d/b.conf': vs(443, '  bogus_keyword 3\n'), '/etc/keepalived/conf.d/a.conf': vs(80) },
    };
    const r = await h.as('admin', { method: 'POST', url: '/v1/import?format=keepalived', ...json(body) });
    expect(r.statusCode).toBe(200);
    expect(r.json().changes.map((c: { key: string }) => c.key)).toEqual(['vs.tcp-10-0-0-100-80', 'vs.tcp-10-0-0-100-443']); // a.conf first: glob order
    expect(r.json().warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: '/etc/keepalived/conf.d/b.conf', line: 4 }),
        { file: '/etc/keepalived/keepalived.conf', line: 2, column: 1, message: 'include empty.d/*.conf: no file matched /etc/keepalived/empty.d/*.conf; nothing included' },
      ]),
    );
    const bad = { ...body, files: { ...body.files, '/etc/keepalived/conf.d/c.conf': 'virtual_server 10.0.0.100 81 {\n  lb_kind BRIDGE\n}\n' } };
    const refused = await h.as('admin', { method: 'POST', url: '/v1/import?format=keepalived', ...json(bad) });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors).toEqual([{ path: '/etc/keepalived/conf.d/c.conf line 2:3', message: 'lb_kind: "BRIDGE" must be NAT, DR or TUN' }]);
    const missing = await h.as('admin', { method: 'POST', url: '/v1/import?format=keepalived', ...json({ file: '/k/keepalived.conf', text: 'include web.conf\n' }) });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors[0]).toEqual({ path: '/k/keepalived.conf line 1:1', message: expect.stringMatching(/^include web.conf: \/k\/web.conf was not sent with the import/) });
    const relative = await h.as('admin', { method: 'POST', url: '/v1/import?format=keepalived', ...json({ file: 'keepalived.conf', text: '' }) });
    expect(relative.statusCode).toBe(400);
    expect(relative.json().errors[0].path).toBe('file');
    const tooMany = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`/k/${i}.conf`, '']));
    const many = await h.as('admin', { method: 'POST', url: '/v1/import?format=keepalived', ...json({ file: '/k/main.conf', text: '', files: tooMany }) });
    expect(many.statusCode).toBe(400);
    expect(many.json().errors[0]).toEqual({ path: 'files', message: 'at most 255 included files in one import' });
    expect(h.repo.commits).toHaveLength(1);
  });

  it('imports and exports ipvsadm-save text', async () => {
    const save = (await h.as('reader', { method: 'GET', url: '/v1/export?format=ipvsadm' })).body;
    expect(save).toBe('-A -t 192.168.80.150:80 -s wrr -p 50\n-a -t 192.168.80.150:80 -r 192.168.80.139:80 -g -w 3\n-a -t 192.168.80.150:80 -r 192.168.80.140:80 -g -w 3\n');
    await h.app.close();
    h = await startHarness();
    const r = await h.as('admin', { method: 'POST', url: '/v1/import?format=ipvsadm', payload: save, headers: { 'content-type': 'text/plain' } });
    expect(r.statusCode).toBe(200);
    expect(h.repo.snapshot().objects.get('vs.tcp-192-168-80-150-80')?.value).toMatchObject({ scheduler: 'wrr', forwarding: 'dr', persistenceTimeout: 50 });
    const broken = await h.as('admin', { method: 'POST', url: '/v1/import?format=ipvsadm', payload: '-A -t 10.0.0.1:80 -s nope\n', headers: { 'content-type': 'text/plain' } });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().errors[0].path).toMatch(/^line 1:\d+$/);
  });

  it('exports YAML and JSON without secrets', async () => {
    const y = await h.as('reader', { method: 'GET', url: '/v1/export?format=yaml' });
    expect(y.headers['content-type']).toMatch(/yaml/);
    expect(y.body).toContain('password: "[redacted]"');
    expect((await h.as('reader', { method: 'GET', url: '/v1/export' })).body).not.toContain('1111');
  });
});

describe('operations', () => {
  it('drains a real server on every director and returns their replies', async () => {
    const r = await h.as('operator', { method: 'POST', url: '/v1/virtual-services/web/real-servers/192.168.80.139/80/drain', ...json({ reason: 'patching' }) });
    expect(r.statusCode).toBe(200);
    expect(r.json().results.map((x: { host: string }) => x.host)).toEqual(['director1', 'director2']);
    expect(h.sent[0]).toEqual({ subject: 'fulcrum.cmd.realserver-drain.{host}', host: 'director1', request: { virtualService: 'web', address: '192.168.80.139', port: 80, reason: 'patching' } });
  });

  it('says 502 COMMAND_FAILED with every reply when an agent fails', async () => {
    h.replies.set('fulcrum.cmd.realserver-enable.{host}|director2', { ok: false, code: 'TIMEOUT', message: 'director2 did not answer within 5000 ms' });
    const r = await h.as('operator', { method: 'POST', url: '/v1/virtual-services/web/real-servers/192.168.80.139/80/enable' });
    expect(r.statusCode).toBe(502);
    expect(r.json()).toMatchObject({ code: 'COMMAND_FAILED', results: [{ host: 'director1', reply: { ok: true } }, { host: 'director2', reply: { ok: false, code: 'TIMEOUT' } }] });
  });

  it('fails over a VRRP instance: the backup answering CONFLICT is expected', async () => {
    h.replies.set('fulcrum.cmd.vrrp-failover.{host}|director2', { ok: false, code: 'CONFLICT', message: 'not master' });
    const r = await h.as('operator', { method: 'POST', url: '/v1/vrrp-instances/vi-1/failover' });
    expect(r.statusCode).toBe(200);
    expect((await h.as('operator', { method: 'POST', url: '/v1/vrrp-instances/nope/failover' })).statusCode).toBe(404);
    expect((await h.as('operator', { method: 'POST', url: '/v1/virtual-services/web/real-servers/10.9.9.9/80/drain' })).statusCode).toBe(404);
  });

  it('reloads named hosts and refuses unknown ones', async () => {
    expect((await h.as('operator', { method: 'POST', url: '/v1/operations/reload', ...json({ hosts: ['web1'] }) })).statusCode).toBe(200);
    const bad = await h.as('operator', { method: 'POST', url: '/v1/operations/reload', ...json({ hosts: ['ghost'] }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0]).toEqual({ path: 'hosts[0]', message: '"ghost" is not in the host inventory' });
  });
});

describe('status and events', () => {
  const health = (state: 'up' | 'down') =>
    makeEvent('health', { service: 'health-checker', host: 'director1' }, {
      virtualService: 'web',
      realServer: { address: '192.168.80.139', port: 80 },
      state,
      previous: 'unknown',
      checks: [{ type: 'tcp', ok: state === 'up' }],
      reason: 'tcp check',
    }, { time: new Date(Date.now() - 5000) });

  it('assembles health and VRRP state per object with ages', async () => {
    h.status.push(health('down'), makeEvent('vrrp-state', { service: 'vrrp-agent', host: 'director1' }, { instance: 'vi-1', state: 'master', previous: 'backup', priority: 100, reason: 'higher priority' }));
    const r = await h.as('reader', { method: 'GET', url: '/v1/status' });
    const body = r.json();
    expect(body.virtualServices[0].realServers[0].health[0]).toMatchObject({ host: 'director1', state: 'down' });
    expect(body.virtualServices[0].realServers[0].health[0].ageSeconds).toBeGreaterThanOrEqual(4.9);
    expect(body.vrrp).toEqual([{ instance: 'vi-1', directors: [expect.objectContaining({ host: 'director1', state: 'master', priority: 100 })] }]);
  });

  it('streams events as SSE, filtered by type and object', async () => {
    const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const ctl = new AbortController();
    const res = await fetch(`${url}/v1/events?type=health&object=web`, { headers: { authorization: 'Bearer reader-token-0123456789' }, signal: ctl.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const read = async (until: RegExp) => {
      while (!until.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await read(/fulcrum events/);
    h.emit(makeEvent('vrrp-state', { service: 'vrrp-agent', host: 'director1' }, { instance: 'vi-1', state: 'master', previous: 'backup', priority: 100, reason: 'x' }));
    h.emit(health('up'));
    await read(/event: health/);
    expect(text).not.toContain('vrrp-state');
    expect(text).toMatch(/data: \{.*"state":"up"/);
    ctl.abort();
    const bad = await h.as('reader', { method: 'GET', url: '/v1/events?type=gossip' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('query.type[0]');
  });
});

describe('the HTTP surface', () => {
  it('serves an OpenAPI document of every route, with every error code described, and the /docs UI', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/virtual-services', '/v1/virtual-services/{id}', '/v1/transactions', '/v1/status', '/v1/events', '/v1/import', '/v1/export']));
    expect(JSON.stringify(doc.paths['/v1/vrrp-instances'].post.requestBody)).toContain('"writeOnly":true');
    for (const code of Object.keys(ERROR_CODES)) expect(doc.info.description).toContain(`${code}:`);
    expect((await h.app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
  });

  it('answers unknown routes 404, broken JSON and duplicate keys 400, a wrong media type 415 and a huge body 413', async () => {
    expect((await h.as('reader', { method: 'GET', url: '/v2/nothing' })).statusCode).toBe(404);
    const broken = await h.as('admin', { method: 'POST', url: '/v1/hosts', payload: '{"name": "x",', headers: { 'content-type': 'application/json' } });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().errors[0].message).toMatch(/^is not valid JSON/);
    const dup = await h.as('admin', { method: 'POST', url: '/v1/hosts', payload: '{"name": "x", "roles": ["data"], "name": "y"}', headers: { 'content-type': 'application/json' } });
    expect(dup.json().errors).toEqual([{ path: 'name', message: 'is given twice in the same object' }]);
    expect((await h.as('admin', { method: 'POST', url: '/v1/hosts', payload: '<host/>', headers: { 'content-type': 'application/xml' } })).statusCode).toBe(415);
    expect((await h.as('admin', { method: 'POST', url: '/v1/hosts', payload: JSON.stringify({ name: 'x', description: 'a'.repeat(300_000) }), headers: { 'content-type': 'application/json' } })).statusCode).toBe(413);
  });
});
