import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../testing/app-harness.js';

// An operator imports each director's keepalived.conf: the pair must end up as one VRRP instance holding every
// director's priority, not the last file's alone.

const conf = (director: 1 | 2) => readFileSync(new URL(`../../../../deploy/demo/keepalived-director${director}.conf`, import.meta.url), 'utf8');

let h: Harness;
afterEach(async () => {
  await h?.app.close();
});

const post = (text: string, host: string) =>
  h.as('admin', { method: 'POST', url: `/v1/import?format=keepalived&host=${host}`, payload: text, headers: { 'content-type': 'text/plain' } });
const instance = async () => (await h.as('reader', { method: 'GET', url: '/v1/vrrp-instances/vi-1' })).json().object;

describe("importing each director's keepalived.conf", () => {
  it("adds director2's priority to the instance director1's file made, and keeps both hosts", async () => {
    h = await startHarness();
    expect((await post(conf(1), 'director1')).statusCode).toBe(200);
    const second = await post(conf(2), 'director2');
    expect(second.statusCode).toBe(200);
    expect((await instance()).priorities).toEqual({ director1: 100, director2: 99 });
    const hosts = (await h.as('reader', { method: 'GET', url: '/v1/hosts' })).json().items.map((i: { key: string }) => i.key);
    expect(hosts).toEqual(['host.director1', 'host.director2']);
    // The two files agree on everything else: nothing to warn about.
    expect(second.json().warnings.filter((w: { message: string }) => /vrrp-instance vi-1/.test(w.message))).toEqual([]);

    // In the other order, and importing a file again, changes only that director's own priority.
    const again = await post(conf(1).replace('priority 100', 'priority 120'), 'director1');
    expect(again.statusCode).toBe(200);
    expect((await instance()).priorities).toEqual({ director1: 120, director2: 99 });
  });

  it('unites the unicast peers each file lists and keeps what is stored on a host', async () => {
    h = await startHarness();
    const peerConf = (own: string, peer: string, priority: number) =>
      `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority ${priority}\n  unicast_src_ip ${own}\n  unicast_peer {\n    ${peer}\n  }\n  virtual_ipaddress {\n    10.99.0.100\n  }\n}\n`;
    expect((await post(peerConf('10.99.0.11', '10.99.0.12', 150), 'director1')).statusCode).toBe(200);
    const patched = await h.as('admin', { method: 'PATCH', url: '/v1/hosts/director1', payload: { description: 'rack 3', address: '10.99.0.11' } });
    expect(patched.statusCode).toBe(200);
    expect((await post(peerConf('10.99.0.12', '10.99.0.11', 100), 'director2')).statusCode).toBe(200);
    const vi = await instance();
    expect(vi.priorities).toEqual({ director1: 150, director2: 100 });
    expect([...vi.unicastPeers].sort()).toEqual(['10.99.0.11', '10.99.0.12']);
    expect((await post(peerConf('10.99.0.11', '10.99.0.12', 150), 'director1')).statusCode).toBe(200);
    const host = (await h.as('reader', { method: 'GET', url: '/v1/hosts/director1' })).json().object;
    expect(host).toMatchObject({ name: 'director1', description: 'rack 3', address: '10.99.0.11', roles: ['director'] });
  });

  it("says so when director2's file disagrees with the stored instance on a shared setting, and takes its value", async () => {
    h = await startHarness();
    await post(conf(1), 'director1');
    const r = await post(conf(2).replace('virtual_router_id 51', 'virtual_router_id 52'), 'director2');
    expect(r.statusCode).toBe(200);
    expect(r.json().warnings.map((w: { message: string }) => w.message)).toContain(
      "vrrp-instance vi-1: virtualRouterId is 52 in director2's file but 51 in the stored instance (from the other directors' files); director2's value replaces it",
    );
    expect(await instance()).toMatchObject({ virtualRouterId: 52, priorities: { director1: 100, director2: 99 } });
  });
});
