import { describe, expect, it } from 'vitest';
import { checkContract } from './issues.js';
import { vrrpInstance } from './vrrp.js';

const base = () =>
  ({
    kind: 'vrrp-instance',
    id: 'vi-1',
    interface: 'eth0',
    virtualRouterId: 51,
    priorities: { director1: 150, director2: 100 },
    virtualAddresses: [{ address: '10.0.0.10' }],
  }) as Record<string, unknown>;

const problems = (patch: (v: Record<string, unknown>) => void) => {
  const v = base();
  patch(v);
  const r = checkContract(vrrpInstance, v);
  return r.ok ? [] : r.issues;
};

describe('VRRP instance', () => {
  it("fills keepalived's defaults", () => {
    expect(vrrpInstance.parse(base())).toEqual({
      ...base(),
      version: 2,
      advertInterval: 1,
      unicastPeers: [],
      preempt: true,
      preemptDelay: 0,
      trackInterfaces: [],
      trackVirtualServices: [],
      trackScripts: [],
    });
  });

  it('virtual router id 1..255 and priorities 1..255 per host', () => {
    expect(problems((v) => (v.virtualRouterId = 256))).toEqual([{ path: 'virtualRouterId', message: 'must be at most 255' }]);
    expect(problems((v) => (v.priorities = { director1: 0 }))).toEqual([{ path: 'priorities.director1', message: 'must be at least 1' }]);
    expect(problems((v) => (v.priorities = {}))).toEqual([{ path: 'priorities', message: 'needs the priority of at least one director' }]);
    expect(problems((v) => (v.priorities = { 'Director 1': 100 }))).toEqual([
      {
        path: 'priorities["Director 1"]',
        message:
          'key "Director 1" must be 1-63 characters of lowercase letters, digits and "-", starting and ending with a letter or digit (no dots, spaces or capitals)',
      },
    ]);
  });

  it('advert interval: v2 whole seconds, v3 down to 0.01 s', () => {
    expect(problems((v) => (v.advertInterval = 2))).toEqual([]);
    expect(problems((v) => (v.advertInterval = 0.1))).toEqual([
      { path: 'advertInterval', message: 'VRRPv2 adverts are whole seconds 1-255 (got 0.1); use version 3 for sub-second intervals' },
    ]);
    expect(problems((v) => Object.assign(v, { version: 3, advertInterval: 0.01 }))).toEqual([]);
    expect(problems((v) => Object.assign(v, { version: 3, advertInterval: 0.015 }))).toEqual([
      { path: 'advertInterval', message: 'VRRPv3 adverts are 0.01-40.95 s in steps of 0.01 s (got 0.015)' },
    ]);
    expect(problems((v) => Object.assign(v, { version: 3, advertInterval: 41 }))).toEqual([
      { path: 'advertInterval', message: 'VRRPv3 adverts are 0.01-40.95 s in steps of 0.01 s (got 41)' },
    ]);
    expect(problems((v) => (v.version = 4))).toEqual([{ path: 'version', message: 'must be one of: 2, 3' }]);
  });

  it('authentication: PASS of at most 8 characters, VRRPv2 only', () => {
    expect(problems((v) => (v.authentication = { type: 'pass', password: '1111' }))).toEqual([]);
    expect(problems((v) => (v.authentication = { type: 'ah', password: '1111' }))).toEqual([{ path: 'authentication.type', message: 'must be "pass"' }]);
    expect(problems((v) => Object.assign(v, { version: 3, authentication: { type: 'pass', password: '1111' } }))).toEqual([
      { path: 'authentication', message: 'VRRPv3 has no authentication (RFC 5798); remove it or use version 2' },
    ]);
  });

  it('virtual addresses: at least one, one family, no duplicates, IPv6 needs v3', () => {
    expect(problems((v) => (v.virtualAddresses = []))).toEqual([{ path: 'virtualAddresses', message: 'needs at least one virtual address' }]);
    expect(problems((v) => (v.virtualAddresses = [{ address: '10.0.0.10' }, { address: '2001:db8::10' }]))).toEqual([
      { path: 'virtualAddresses', message: 'mixes IPv4 and IPv6; one instance carries one address family' },
    ]);
    expect(problems((v) => (v.virtualAddresses = [{ address: '10.0.0.10' }, { address: '10.0.0.10', prefix: 24 }]))).toEqual([
      { path: 'virtualAddresses[1].address', message: '10.0.0.10 is already virtualAddresses[0]' },
    ]);
    expect(problems((v) => (v.virtualAddresses = [{ address: '2001:db8::10', prefix: 64 }]))).toEqual([
      { path: 'version', message: 'must be 3 for IPv6 virtual addresses (VRRPv2 is IPv4 only)' },
    ]);
    expect(problems((v) => Object.assign(v, { version: 3, virtualAddresses: [{ address: '2001:DB8::10', prefix: 64, interface: 'eth1' }] }))).toEqual([]);
    expect(problems((v) => (v.virtualAddresses = [{ address: '10.0.0.10', label: 'eth0:vip 1' }]))).toEqual([
      { path: 'virtualAddresses[0].label', message: 'must be an interface label such as eth0:1' },
    ]);
  });

  it('unicast peers of the same family, each once', () => {
    expect(problems((v) => (v.unicastPeers = ['10.0.0.2', '10.0.0.3']))).toEqual([]);
    expect(problems((v) => (v.unicastPeers = ['2001:db8::2']))).toEqual([
      { path: 'unicastPeers[0]', message: 'is IPv6 but the virtual addresses are IPv4' },
    ]);
    expect(problems((v) => (v.unicastPeers = ['10.0.0.2', '10.0.0.2']))).toEqual([{ path: 'unicastPeers', message: 'lists a peer twice' }]);
  });

  it('preempt delay 0..1000 s and only with preempt', () => {
    expect(problems((v) => (v.preemptDelay = 300))).toEqual([]);
    expect(problems((v) => (v.preemptDelay = 1001))).toEqual([{ path: 'preemptDelay', message: 'must be at most 1000' }]);
    expect(problems((v) => Object.assign(v, { preempt: false, preemptDelay: 5 }))).toEqual([
      { path: 'preemptDelay', message: 'has no effect when preempt is false' },
    ]);
  });

  it('tracking: weights -253..253, scripts named once, timeout within interval', () => {
    const script = { name: 'check-nginx', path: '/usr/local/bin/check-nginx', weight: -20 };
    const parsed = vrrpInstance.parse({ ...base(), trackScripts: [script], trackInterfaces: [{ interface: 'eth1' }] });
    expect(parsed.trackScripts[0]).toEqual({ ...script, args: [], interval: 1, reverse: false, rise: 1, fall: 1, initFail: false });
    expect(parsed.trackInterfaces[0]).toEqual({ interface: 'eth1', weight: 0 });
    expect(problems((v) => (v.trackInterfaces = [{ interface: 'eth1', weight: 254 }]))).toEqual([
      { path: 'trackInterfaces[0].weight', message: 'must be at most 253' },
    ]);
    expect(problems((v) => (v.trackScripts = [script, script]))).toEqual([{ path: 'trackScripts[1].name', message: '"check-nginx" is used twice' }]);
    expect(problems((v) => (v.trackScripts = [{ ...script, interval: 2, timeout: 3 }]))).toEqual([
      { path: 'trackScripts[0].timeout', message: '(3 s) must not exceed the interval (2 s)' },
    ]);
    expect(problems((v) => (v.trackVirtualServices = [{ virtualService: 'web', weight: 10 }]))).toEqual([]);
  });

  it('an address owner (255) cannot have its priority changed by tracking weights', () => {
    expect(problems((v) => (v.priorities = { director1: 255 }))).toEqual([]);
    expect(problems((v) => Object.assign(v, { priorities: { director1: 255 }, trackInterfaces: [{ interface: 'eth1', weight: -10 }] }))).toEqual([
      {
        path: 'priorities.director1',
        message: 'is 255 (address owner), whose priority tracking weights cannot change; use weight 0 or a priority below 255',
      },
    ]);
  });
});
