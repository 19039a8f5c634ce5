import { readFileSync } from 'node:fs';
import { type DesiredObject, checkDesiredState, desiredObject, parseContract } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { KeepalivedImportError, KeepalivedSyntaxError, importKeepalivedConf, parseKeepalivedConf, printKeepalivedConf } from './index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const parsed = (objects: Record<string, unknown>[]): DesiredObject[] => objects.map((o, i) => parseContract(desiredObject, o, `object ${i}`));

describe('keepalived.conf import of the seeds', () => {
  it('seed 000 (DR, wrr, persistence, TCP_CHECK, VRRP with PASS) imports as it is, with warnings for what it cannot use', () => {
    const { objects, warnings } = importKeepalivedConf(fixture('seed-000.conf'), { host: 'director1' });
    const state = parsed(objects);
    expect(checkDesiredState(state)).toEqual([]);
    const vs = state.find((o) => o.kind === 'virtual-service');
    expect(vs).toMatchObject({
      id: 'tcp-192-168-80-150-80',
      match: { kind: 'address', protocol: 'tcp', address: '192.168.80.150', port: 80 },
      scheduler: 'wrr',
      forwarding: 'dr',
      persistenceTimeout: 50,
    });
    // The two servers' checks differ (connect_timeout 0 keeps the default 5 s, the other says 10 s): kept per server.
    expect(vs?.kind === 'virtual-service' && vs.realServers.map((r) => [r.address, r.weight, r.healthChecks?.[0]])).toEqual([
      ['192.168.80.139', 3, expect.objectContaining({ type: 'tcp', interval: 6, retries: 3, delayBeforeRetry: 3, connectPort: 80, connectTimeout: 5 })],
      ['192.168.80.140', 3, expect.objectContaining({ type: 'tcp', interval: 6, connectTimeout: 10 })],
    ]);
    const vrrp = state.find((o) => o.kind === 'vrrp-instance');
    expect(vrrp).toMatchObject({ id: 'vi-1', interface: 'eth0', virtualRouterId: 51, priorities: { director1: 100 }, virtualAddresses: [{ address: '192.168.80.150' }] });
    expect(vrrp?.kind === 'vrrp-instance' && vrrp.authentication?.password).toBe('1111');
    const lines = warnings.map((w) => [w.line, w.message.split(';')[0]]);
    expect(lines).toEqual(
      expect.arrayContaining([
        [6, 'unknown keyword "a0fc" in global_defs'],
        [7, 'unknown keyword "from" in global_defs'],
        [30, 'nat_mask is obsolete (keepalived ignores it too)'],
        [36, 'connect_timeout 0 is invalid (keepalived keeps its default of 5 s)'],
      ]),
    );
  });

  it('seed 003 (priority 150, VIP with a prefix and a device, checks hoisted to the service) imports', () => {
    const { objects } = importKeepalivedConf(fixture('seed-003.conf'), { host: 'director1' });
    const state = parsed(objects);
    expect(checkDesiredState(state)).toEqual([]);
    expect(state.find((o) => o.kind === 'vrrp-instance')).toMatchObject({
      priorities: { director1: 150 },
      virtualAddresses: [{ address: '192.168.122.254', prefix: 24 }],
    });
    const vs = state.find((o) => o.kind === 'virtual-service');
    expect(vs).toMatchObject({ scheduler: 'rr', forwarding: 'dr', healthChecks: [{ type: 'tcp', interval: 3, connectTimeout: 10, retries: 3 }] });
  });

  it.each(['seed-000.conf', 'seed-003.conf'])('%s: import, export and re-import give the same objects', (name) => {
    const first = parsed(importKeepalivedConf(fixture(name), { host: 'director1' }).objects);
    const text = printKeepalivedConf(first, { host: 'director1' });
    const again = importKeepalivedConf(text, { host: 'director1' });
    expect(again.warnings).toEqual([]);
    expect(parsed(again.objects)).toEqual(first);
  });
});

describe('keepalived.conf syntax', () => {
  it('reads comments (! and #), braces on their own line, quoted words and includes', () => {
    const files: Record<string, string> = {
      '/etc/keepalived/conf.d/web.conf': 'virtual_server 10.0.0.1 80 # the web VIP\n{\n  lb_algo rr\n  real_server 10.0.1.1 80 { weight 2 }\n}\n',
    };
    const text = '! top\ninclude /etc/keepalived/conf.d/*.conf\nvrrp_script chk { script "/usr/bin/check --fast" }\n';
    const { objects } = importKeepalivedConf(text, {
      include: (pattern) => Object.entries(files).filter(([f]) => f.startsWith(pattern.replace('*.conf', ''))).map(([file, t]) => ({ file, text: t })),
    });
    expect(parsed(objects)).toMatchObject([{ kind: 'virtual-service', scheduler: 'rr', realServers: [{ address: '10.0.1.1', weight: 2 }] }]);
  });

  it('takes the obsolete and alternative spellings (nb_get_retry, lb_algo/lvs_sched, lb_kind/lvs_method)', () => {
    const a = importKeepalivedConf('virtual_server 10.0.0.1 80 {\n lb_algo wlc\n lb_kind NAT\n real_server 10.0.1.1 80 {\n TCP_CHECK {\n nb_get_retry 2\n }\n }\n}\n');
    const b = importKeepalivedConf('virtual_server 10.0.0.1 80 {\n lvs_sched wlc\n lvs_method NAT\n real_server 10.0.1.1 80 {\n TCP_CHECK {\n retry 2\n }\n }\n}\n');
    expect(parsed(a.objects)).toEqual(parsed(b.objects));
    expect(parsed(a.objects)[0]).toMatchObject({ healthChecks: [{ type: 'tcp', retries: 2 }] });
  });

  it('gives errors with line:column', () => {
    expect(() => parseKeepalivedConf('vrrp_instance A {\n  interface eth0\n')).toThrow(KeepalivedSyntaxError);
    expect(() => parseKeepalivedConf('vrrp_instance A {\n  interface eth0\n')).toThrow(/^1:1: "vrrp_instance" opens a block that is never closed/);
    expect(() => parseKeepalivedConf('}\n')).toThrow(/^1:1: unexpected "}"/);
    expect(() => importKeepalivedConf('virtual_server 10.0.0.1 80 {\n  lb_algo fastest\n}\n')).toThrow(/^2:3: lb_algo: "fastest" is not an IPVS scheduler/);
    expect(() => importKeepalivedConf('virtual_server 10.0.0.300 80 {\n}\n')).toThrow(KeepalivedImportError);
    expect(() => importKeepalivedConf('include a.conf\n')).toThrow(/^1:1: include a.conf: included files cannot be read here/);
  });

  it('warns about unknown keywords with their line, and keeps going', () => {
    const { warnings, objects } = importKeepalivedConf('global_defs {\n  router_id x\n  frobnicate 1\n}\nvirtual_server 10.0.0.1 80 {\n  ha_suspend\n}\n');
    expect(warnings.map((w) => w.line)).toEqual([3, 6]);
    expect(objects).toHaveLength(1);
  });
});
