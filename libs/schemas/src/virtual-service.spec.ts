import { describe, expect, it } from 'vitest';
import { checkContract } from './issues.js';
import { forwardingOf, healthChecksOf, tunnelSpec, virtualService } from './virtual-service.js';

// A minimal valid service; each case below changes one thing.
const base = () => ({
  kind: 'virtual-service' as const,
  id: 'web',
  match: { kind: 'address' as const, protocol: 'tcp' as const, address: '10.0.0.10', port: 80 },
  realServers: [
    { address: '10.0.1.1', port: 80 },
    { address: '10.0.1.2', port: 80 },
  ] as Record<string, unknown>[],
});
type Input = ReturnType<typeof base> & Record<string, unknown>;

const problems = (patch: (v: Input) => void) => {
  const v = base() as Input;
  patch(v);
  const r = checkContract(virtualService, v);
  return r.ok ? [] : r.issues;
};

describe('virtual service defaults', () => {
  it('fills ipvsadm/keepalived defaults', () => {
    const vs = virtualService.parse(base());
    expect(vs).toMatchObject({
      scheduler: 'wlc',
      schedulerFlags: [],
      onePacket: false,
      forwarding: 'nat',
      quorum: 1,
      hysteresis: 0,
      inhibitOnFailure: false,
      alpha: false,
      healthChecks: [],
    });
    expect(vs.persistenceTimeout).toBeUndefined();
    expect(vs.realServers[0]).toEqual({ address: '10.0.1.1', port: 80, weight: 1, upperThreshold: 0, lowerThreshold: 0 });
  });

  it('accepts every scheduler', () => {
    for (const scheduler of ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos']) {
      expect(problems((v) => (v.scheduler = scheduler))).toEqual([]);
    }
    expect(problems((v) => (v.scheduler = 'random'))).toEqual([
      { path: 'scheduler', message: 'must be one of: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos' },
    ]);
  });

  it('normalizes IPv6 addresses of the service and its servers', () => {
    const vs = virtualService.parse({
      ...base(),
      match: { kind: 'address', protocol: 'tcp', address: '2001:DB8:0:0::10', port: 80 },
      realServers: [{ address: '2001:db8:0:0:0:0:1:1', port: 80 }],
    });
    expect(vs.match).toMatchObject({ address: '2001:db8::10' });
    expect(vs.realServers[0]?.address).toBe('2001:db8::1:1');
  });
});

describe('scheduler flags and one-packet', () => {
  it('sh flags only with sh, mh flags only with mh', () => {
    expect(problems((v) => Object.assign(v, { scheduler: 'sh', schedulerFlags: ['sh-fallback', 'sh-port'] }))).toEqual([]);
    expect(problems((v) => Object.assign(v, { scheduler: 'mh', schedulerFlags: ['mh-port'] }))).toEqual([]);
    expect(problems((v) => Object.assign(v, { scheduler: 'wrr', schedulerFlags: ['sh-port'] }))).toEqual([
      { path: 'schedulerFlags[0]', message: '"sh-port" only applies to the sh scheduler, not wrr' },
    ]);
    expect(problems((v) => Object.assign(v, { scheduler: 'sh', schedulerFlags: ['mh-fallback'] }))).toEqual([
      { path: 'schedulerFlags[0]', message: '"mh-fallback" only applies to the mh scheduler, not sh' },
    ]);
    expect(problems((v) => Object.assign(v, { scheduler: 'sh', schedulerFlags: ['sh-port', 'sh-port'] }))).toEqual([
      { path: 'schedulerFlags[1]', message: '"sh-port" is listed twice' },
    ]);
  });

  it('one-packet scheduling only for UDP (or firewall marks)', () => {
    expect(problems((v) => (v.onePacket = true))).toEqual([
      { path: 'onePacket', message: 'one-packet scheduling applies to UDP services only, not tcp' },
    ]);
    expect(problems((v) => Object.assign(v, { onePacket: true, match: { ...v.match, protocol: 'udp' } }))).toEqual([]);
    expect(problems((v) => Object.assign(v, { onePacket: true, match: { kind: 'fwmark', fwmark: 1 } }))).toEqual([]);
  });
});

describe('persistence', () => {
  it('netmask (prefix) and engine only with a persistence timeout', () => {
    expect(problems((v) => (v.persistencePrefix = 24))).toEqual([
      { path: 'persistencePrefix', message: 'is only used with persistence: set persistenceTimeout too' },
    ]);
    expect(problems((v) => (v.persistenceEngine = 'sip'))).toEqual([
      { path: 'persistenceEngine', message: 'is only used with persistence: set persistenceTimeout too' },
    ]);
    expect(problems((v) => Object.assign(v, { persistenceTimeout: 50, persistencePrefix: 24 }))).toEqual([]);
  });

  it('an IPv4 prefix is at most 32, an IPv6 one at most 128', () => {
    expect(problems((v) => Object.assign(v, { persistenceTimeout: 50, persistencePrefix: 64 }))).toEqual([
      { path: 'persistencePrefix', message: '64 is longer than an IPv4 prefix (at most 32)' },
    ]);
    expect(
      problems((v) =>
        Object.assign(v, {
          persistenceTimeout: 50,
          persistencePrefix: 64,
          match: { kind: 'address', protocol: 'tcp', address: '2001:db8::10', port: 80 },
          realServers: [{ address: '2001:db8::1:1', port: 80 }],
        }),
      ),
    ).toEqual([]);
    expect(problems((v) => Object.assign(v, { persistenceTimeout: 50, persistencePrefix: 64, match: { kind: 'fwmark', fwmark: 5, family: 'inet6' }, realServers: [] }))).toEqual([]);
  });

  it('the sip engine is for UDP; the timeout is whole seconds', () => {
    expect(problems((v) => Object.assign(v, { persistenceTimeout: 60, persistenceEngine: 'sip' }))).toEqual([
      { path: 'persistenceEngine', message: 'the sip engine handles UDP services only' },
    ]);
    expect(problems((v) => (v.persistenceTimeout = 0))).toEqual([{ path: 'persistenceTimeout', message: 'must be at least 1' }]);
    expect(problems((v) => (v.persistenceTimeout = 1.5))).toEqual([{ path: 'persistenceTimeout', message: 'must be a whole number (got number 1.5)' }]);
  });
});

describe('real servers', () => {
  it('DR and TUN real servers must use the service port; NAT may map it', () => {
    expect(problems((v) => Object.assign(v, { forwarding: 'nat', realServers: [{ address: '10.0.1.1', port: 8080 }] }))).toEqual([]);
    expect(problems((v) => Object.assign(v, { forwarding: 'dr', realServers: [{ address: '10.0.1.1', port: 8080 }] }))).toEqual([
      { path: 'realServers[0].port', message: "must be the service's port 80: direct routing cannot change the port (got 8080)" },
    ]);
    expect(problems((v) => (v.realServers = [{ address: '10.0.1.1', port: 8080, forwarding: 'tun' }]))).toEqual([
      { path: 'realServers[0].port', message: "must be the service's port 80: a tunnel cannot change the port (got 8080)" },
    ]);
  });

  it('port 0 only under a firewall-mark service, and then checks need a connectPort', () => {
    expect(problems((v) => (v.realServers = [{ address: '10.0.1.1', port: 0 }]))).toEqual([
      { path: 'realServers[0].port', message: 'must be 1-65535 (port 0 is only for firewall-mark services)' },
    ]);
    const fw = (v: Input) => Object.assign(v, { match: { kind: 'fwmark', fwmark: 81 }, forwarding: 'dr' });
    expect(problems((v) => Object.assign(fw(v), { realServers: [{ address: '10.0.1.1', port: 0 }] }))).toEqual([]);
    expect(
      problems((v) => Object.assign(fw(v), { healthChecks: [{ type: 'tcp' }, { type: 'icmp' }], realServers: [{ address: '10.0.1.1', port: 0 }] })),
    ).toEqual([{ path: 'healthChecks[0].connectPort', message: 'is required: real server 10.0.1.1 has port 0, so the tcp check has no port to connect to' }]);
    expect(
      problems((v) =>
        Object.assign(fw(v), { realServers: [{ address: '10.0.1.1', port: 0, healthChecks: [{ type: 'http', urls: [{ path: '/' }] }] }] }),
      ),
    ).toEqual([{ path: 'realServers[0].healthChecks[0].connectPort', message: 'is required: real server 10.0.1.1 has port 0, so the http check has no port to connect to' }]);
  });

  it('weights are 0..65535 and a server is listed once', () => {
    expect(problems((v) => (v.realServers[0]!.weight = 0))).toEqual([]);
    expect(problems((v) => (v.realServers[0]!.weight = -1))).toEqual([{ path: 'realServers[0].weight', message: 'must be at least 0' }]);
    expect(problems((v) => (v.realServers[0]!.weight = 65536))).toEqual([{ path: 'realServers[0].weight', message: 'must be at most 65535' }]);
    expect(problems((v) => (v.realServers[1]!.address = '10.0.1.1'))).toEqual([
      { path: 'realServers[1].address', message: '10.0.1.1 port 80 is already realServers[0]' },
    ]);
  });

  it('thresholds: lower needs upper and must not exceed it', () => {
    expect(problems((v) => Object.assign(v.realServers[0]!, { upperThreshold: 100, lowerThreshold: 80 }))).toEqual([]);
    expect(problems((v) => Object.assign(v.realServers[0]!, { lowerThreshold: 80 }))).toEqual([
      { path: 'realServers[0].lowerThreshold', message: 'needs an upperThreshold' },
    ]);
    expect(problems((v) => Object.assign(v.realServers[0]!, { upperThreshold: 50, lowerThreshold: 80 }))).toEqual([
      { path: 'realServers[0].lowerThreshold', message: '(80) must not exceed upperThreshold (50)' },
    ]);
  });

  it('mixing address families needs a tunnel', () => {
    expect(problems((v) => (v.realServers = [{ address: '2001:db8::1', port: 80 }]))).toEqual([
      { path: 'realServers[0].address', message: 'is IPv6 but the service is IPv4: mixing families needs the tun forwarding method' },
    ]);
    expect(problems((v) => (v.realServers = [{ address: '2001:db8::1', port: 80, forwarding: 'tun' }]))).toEqual([]);
  });

  it('tunnel settings only with tun, and valid per tunnel type', () => {
    expect(problems((v) => (v.realServers = [{ address: '10.0.1.1', port: 80, tunnel: { type: 'ipip' } }]))).toEqual([
      { path: 'realServers[0].tunnel', message: 'is only used with the tun forwarding method, not nat' },
    ]);
    expect(problems((v) => (v.tunnel = { type: 'ipip' }))).toEqual([
      { path: 'tunnel', message: 'is only used when the service or a real server forwards with tun' },
    ]);
    expect(problems((v) => Object.assign(v, { forwarding: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' } }))).toEqual([]);
  });
});

describe('tunnel spec', () => {
  const tp = (t: unknown) => {
    const r = checkContract(tunnelSpec, t);
    return r.ok ? [] : r.issues;
  };
  it('ipip by default; gue needs a port; checksums only for gue/gre; remcsum only for gue', () => {
    expect(tunnelSpec.parse({})).toEqual({ type: 'ipip', checksum: 'nocsum' });
    expect(tp({ type: 'gue' })).toEqual([{ path: 'port', message: 'is required for a GUE tunnel' }]);
    expect(tp({ type: 'gre', port: 1 })).toEqual([{ path: 'port', message: 'is only used by GUE tunnels, not gre' }]);
    expect(tp({ type: 'ipip', checksum: 'csum' })).toEqual([{ path: 'checksum', message: 'checksum options apply to GUE and GRE tunnels only' }]);
    expect(tp({ type: 'gre', checksum: 'remcsum' })).toEqual([{ path: 'checksum', message: 'remcsum is supported by GUE tunnels only, not GRE' }]);
    expect(tp({ type: 'gre', checksum: 'csum' })).toEqual([]);
  });
});

describe('quorum, sorry server, checks', () => {
  it('hysteresis below the quorum', () => {
    expect(problems((v) => Object.assign(v, { quorum: 4, hysteresis: 2 }))).toEqual([]);
    expect(problems((v) => Object.assign(v, { quorum: 2, hysteresis: 2 }))).toEqual([
      { path: 'hysteresis', message: '(2) must be less than the quorum (2), or the quorum could never be lost' },
    ]);
    expect(problems((v) => (v.quorum = 0))).toEqual([{ path: 'quorum', message: 'must be at least 1' }]);
  });

  it('the sorry server follows the destination rules and is not a real server', () => {
    expect(problems((v) => (v.sorryServer = { address: '10.0.2.1', port: 8080 }))).toEqual([]);
    expect(problems((v) => Object.assign(v, { forwarding: 'dr', sorryServer: { address: '10.0.2.1', port: 8080 } }))).toEqual([
      { path: 'sorryServer.port', message: "must be the service's port 80: direct routing cannot change the port (got 8080)" },
    ]);
    expect(problems((v) => (v.sorryServer = { address: '10.0.1.1', port: 80 }))).toEqual([
      { path: 'sorryServer.address', message: 'is also realServers[0]; a sorry server must be separate' },
    ]);
  });

  it('real servers use their own checks, else the service ones', () => {
    const vs = virtualService.parse({
      ...base(),
      healthChecks: [{ type: 'tcp' }],
      realServers: [
        { address: '10.0.1.1', port: 80 },
        { address: '10.0.1.2', port: 80, healthChecks: [{ type: 'icmp' }], forwarding: 'dr' },
      ],
    });
    expect(healthChecksOf(vs, vs.realServers[0]!).map((c) => c.type)).toEqual(['tcp']);
    expect(healthChecksOf(vs, vs.realServers[1]!).map((c) => c.type)).toEqual(['icmp']);
    expect(forwardingOf(vs, vs.realServers[0]!)).toBe('nat');
    expect(forwardingOf(vs, vs.realServers[1]!)).toBe('dr');
  });

  it('match: port 1..65535, known protocol, fwmark family', () => {
    expect(problems((v) => (v.match.port = 0))).toEqual([{ path: 'match.port', message: 'must be at least 1' }]);
    expect(problems((v) => ((v.match as Record<string, unknown>).protocol = 'icmp'))).toEqual([{ path: 'match.protocol', message: 'must be one of: tcp, udp, sctp' }]);
    expect(problems((v) => ((v as Record<string, unknown>).match = { kind: 'fwmark', fwmark: 1, family: 'inet4' }))).toEqual([
      { path: 'match.family', message: 'must be one of: inet, inet6' },
    ]);
    expect(problems((v) => ((v as Record<string, unknown>).match = { kind: 'vip' }))).toEqual([{ path: 'match.kind', message: 'must be one of: address, fwmark' }]);
  });
});
