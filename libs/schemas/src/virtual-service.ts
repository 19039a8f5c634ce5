import { z } from 'zod';
import { checkNeedsPort, healthCheck } from './health-check.js';
import type { HealthCheck } from './health-check.js';
import { addressFamily, ipvsProtocol, ipvsScheduler, tunnelType } from './ipvs-table.js';
import { anyPort, ipAddr, ipFamily, servicePort, slug } from './primitives.js';

// The desired state of one IPVS virtual service (keepalived's virtual_server block). This is what operators
// write; the kernel table the ipvs-agent programs from it (with health, drain and quorum applied) is ipvs-table.ts.

/** How a real server receives packets: NAT (masquerading), direct routing, or an IP tunnel. keepalived: NAT. */
export const forwarding = z.enum(['nat', 'dr', 'tun']);
export type Forwarding = z.infer<typeof forwarding>;

/** Tunnel encapsulation for 'tun' (lvs_method TUN type ...). ipip needs nothing; gue needs a port. */
export const tunnelSpec = z
  .object({
    type: tunnelType.default('ipip'),
    /** UDP port of the GUE receiver on the real server (gue only). */
    port: servicePort.optional(),
    /** GUE/GRE checksum option (nocsum | csum | remcsum; remcsum is GUE only). */
    checksum: z.enum(['nocsum', 'csum', 'remcsum']).default('nocsum'),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.type === 'gue' && t.port === undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'is required for a GUE tunnel' });
    if (t.type !== 'gue' && t.port !== undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: `is only used by GUE tunnels, not ${t.type}` });
    if (t.type === 'ipip' && t.checksum !== 'nocsum') {
      ctx.addIssue({ code: 'custom', path: ['checksum'], message: 'checksum options apply to GUE and GRE tunnels only' });
    }
    if (t.type === 'gre' && t.checksum === 'remcsum') {
      ctx.addIssue({ code: 'custom', path: ['checksum'], message: 'remcsum is supported by GUE tunnels only, not GRE' });
    }
  });
export type TunnelSpec = z.infer<typeof tunnelSpec>;

export const SCHEDULER_FLAGS = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'] as const;
export const schedulerFlag = z.enum(SCHEDULER_FLAGS);
export type SchedulerFlag = z.infer<typeof schedulerFlag>;

const threshold = z.number().int().min(0).max(0xffffffff);

export const realServer = z
  .object({
    address: ipAddr,
    /** Destination port. 0 (keep the packet's port) only for firewall-mark services. */
    port: anyPort,
    /** Relative weight (weight); 0 = receives no new connections. keepalived: 1. */
    weight: z.number().int().min(0).max(65535).default(1),
    /** Forwarding method; absent = the virtual service's. */
    forwarding: forwarding.optional(),
    /** Tunnel settings for 'tun'; absent = the virtual service's, else ipip. */
    tunnel: tunnelSpec.optional(),
    /** Stop sending new connections above this many (uthreshold); 0 = no limit. */
    upperThreshold: threshold.default(0),
    /** Resume below this many once the upper threshold was hit (lthreshold); 0 = at the upper threshold. */
    lowerThreshold: threshold.default(0),
    /** Checks of this server; absent = the virtual service's healthChecks. */
    healthChecks: z.array(healthCheck).optional(),
    description: z.string().max(200).optional(),
  })
  .strict();
export type RealServer = z.infer<typeof realServer>;

export const sorryServer = z
  .object({
    address: ipAddr,
    port: anyPort,
    forwarding: forwarding.optional(),
    tunnel: tunnelSpec.optional(),
    /** Apply inhibitOnFailure to the sorry server too (sorry_server_inhibit). */
    inhibit: z.boolean().default(false),
  })
  .strict();
export type SorryServer = z.infer<typeof sorryServer>;

/** A service is matched by protocol + address + port, or by a firewall mark (set by nftables/iptables). */
export const serviceMatch = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('address'), protocol: ipvsProtocol, address: ipAddr, port: servicePort }).strict(),
  z
    .object({
      kind: z.literal('fwmark'),
      fwmark: z.number().int().min(1).max(0xffffffff),
      /** Address family of the marked traffic (ip_family); keepalived: inet. */
      family: addressFamily.default('inet'),
    })
    .strict(),
]);
export type ServiceMatch = z.infer<typeof serviceMatch>;

/** keepalived's virtual_server defaults. */
export const VIRTUAL_SERVICE_DEFAULTS = {
  /** ipvsadm's default scheduler. */
  scheduler: 'wlc' as const,
  /** lvs_method: NAT. */
  forwarding: 'nat' as const,
  /** persistence_timeout given without a value: 6 minutes. */
  persistenceTimeout: 360,
  /** quorum 1, hysteresis 0. */
  quorum: 1,
  hysteresis: 0,
} as const;

export const virtualServiceObject = z
  .object({
    kind: z.literal('virtual-service'),
    id: slug,
    description: z.string().max(200).optional(),
    match: serviceMatch,
    scheduler: ipvsScheduler.default(VIRTUAL_SERVICE_DEFAULTS.scheduler),
    /** Scheduler flags (ipvsadm -b): sh-* only with sh, mh-* only with mh. */
    schedulerFlags: z.array(schedulerFlag).default([]),
    /** One-packet scheduling (ops, ipvsadm -o): each UDP datagram is scheduled on its own. */
    onePacket: z.boolean().default(false),
    /** Seconds a client sticks to its real server (persistence_timeout); absent = not persistent. */
    persistenceTimeout: z.number().int().min(1).max(0xffffffff).optional(),
    /** Clients in one network of this prefix length share persistence (persistence_granularity, ipvsadm -M). */
    persistencePrefix: z.number().int().min(1).max(128).optional(),
    /** Persistence engine (persistence_engine); the kernel has 'sip'. */
    persistenceEngine: z.enum(['sip']).optional(),
    /** Default forwarding method of the real servers (lvs_method). */
    forwarding: forwarding.default(VIRTUAL_SERVICE_DEFAULTS.forwarding),
    /** Default tunnel settings of 'tun' real servers. */
    tunnel: tunnelSpec.optional(),
    /** Checks applied to every real server that has none of its own. */
    healthChecks: z.array(healthCheck).default([]),
    realServers: z.array(realServer).default([]),
    /** Minimum total weight of live real servers (quorum); below it the sorry server takes over. */
    quorum: z.number().int().min(1).max(0xffffffff).default(VIRTUAL_SERVICE_DEFAULTS.quorum),
    /** Weight units of tolerance around the quorum, a flap dampener (hysteresis). */
    hysteresis: z.number().int().min(0).max(0xffffffff).default(VIRTUAL_SERVICE_DEFAULTS.hysteresis),
    /** Served alone while the quorum is lost (sorry_server). */
    sorryServer: sorryServer.optional(),
    /** A failed server keeps its entry with weight 0 instead of being removed (inhibit_on_failure). */
    inhibitOnFailure: z.boolean().default(false),
    /** Start with every server down until its checks pass (alpha). */
    alpha: z.boolean().default(false),
  })
  .strict();

const familyOfMatch = (m: ServiceMatch): 4 | 6 => (m.kind === 'address' ? ipFamily(m.address) : m.family === 'inet6' ? 6 : 4);

type Vs = z.infer<typeof virtualServiceObject>;
type Ctx = z.RefinementCtx;

function checkSchedulerOptions(vs: Vs, ctx: Ctx): void {
  const seen = new Set<string>();
  vs.schedulerFlags.forEach((flag, i) => {
    if (seen.has(flag)) ctx.addIssue({ code: 'custom', path: ['schedulerFlags', i], message: `"${flag}" is listed twice` });
    seen.add(flag);
    const wants = flag.startsWith('sh-') ? 'sh' : 'mh';
    if (vs.scheduler !== wants) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedulerFlags', i],
        message: `"${flag}" only applies to the ${wants} scheduler, not ${vs.scheduler}`,
      });
    }
  });
  if (vs.onePacket && vs.match.kind === 'address' && vs.match.protocol !== 'udp') {
    ctx.addIssue({ code: 'custom', path: ['onePacket'], message: `one-packet scheduling applies to UDP services only, not ${vs.match.protocol}` });
  }
}

function checkPersistence(vs: Vs, ctx: Ctx): void {
  if (vs.persistenceTimeout === undefined) {
    if (vs.persistencePrefix !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['persistencePrefix'], message: 'is only used with persistence: set persistenceTimeout too' });
    }
    if (vs.persistenceEngine !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['persistenceEngine'], message: 'is only used with persistence: set persistenceTimeout too' });
    }
    return;
  }
  if (vs.persistencePrefix !== undefined && familyOfMatch(vs.match) === 4 && vs.persistencePrefix > 32) {
    ctx.addIssue({ code: 'custom', path: ['persistencePrefix'], message: `${vs.persistencePrefix} is longer than an IPv4 prefix (at most 32)` });
  }
  if (vs.persistenceEngine === 'sip' && vs.match.kind === 'address' && vs.match.protocol !== 'udp') {
    ctx.addIssue({ code: 'custom', path: ['persistenceEngine'], message: 'the sip engine handles UDP services only' });
  }
}

/** Rules shared by real servers and the sorry server: family, forwarding and port. */
function checkDestination(
  vs: Vs,
  d: { address: string; port: number; forwarding?: Forwarding | undefined; tunnel?: TunnelSpec | undefined },
  path: (string | number)[],
  ctx: Ctx,
): void {
  const method = d.forwarding ?? vs.forwarding;
  const vsFamily = familyOfMatch(vs.match);
  if (ipFamily(d.address) !== vsFamily && method !== 'tun') {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'address'],
      message: `is IPv${ipFamily(d.address)} but the service is IPv${vsFamily}: mixing families needs the tun forwarding method`,
    });
  }
  if (d.tunnel !== undefined && method !== 'tun') {
    ctx.addIssue({ code: 'custom', path: [...path, 'tunnel'], message: `is only used with the tun forwarding method, not ${method}` });
  }
  if (vs.match.kind === 'address') {
    if (d.port === 0) {
      ctx.addIssue({ code: 'custom', path: [...path, 'port'], message: 'must be 1-65535 (port 0 is only for firewall-mark services)' });
    } else if ((method === 'dr' || method === 'tun') && d.port !== vs.match.port) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'port'],
        message: `must be the service's port ${vs.match.port}: ${method === 'dr' ? 'direct routing' : 'a tunnel'} cannot change the port (got ${d.port})`,
      });
    }
  }
}

function checkRealServers(vs: Vs, ctx: Ctx): void {
  const seen = new Map<string, number>();
  vs.realServers.forEach((rs, i) => {
    const path = ['realServers', i];
    const key = `${rs.address}|${rs.port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: [...path, 'address'], message: `${rs.address} port ${rs.port} is already realServers[${first}]` });
    } else {
      seen.set(key, i);
    }
    checkDestination(vs, rs, path, ctx);
    if (rs.lowerThreshold > 0 && rs.upperThreshold === 0) {
      ctx.addIssue({ code: 'custom', path: [...path, 'lowerThreshold'], message: 'needs an upperThreshold' });
    } else if (rs.lowerThreshold > rs.upperThreshold) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'lowerThreshold'],
        message: `(${rs.lowerThreshold}) must not exceed upperThreshold (${rs.upperThreshold})`,
      });
    }
    const checks = rs.healthChecks ?? vs.healthChecks;
    if (rs.port === 0) {
      checks.forEach((c, j) => {
        if (checkNeedsPort(c) && !('connectPort' in c && c.connectPort !== undefined)) {
          const where = rs.healthChecks ? [...path, 'healthChecks', j] : ['healthChecks', j];
          ctx.addIssue({
            code: 'custom',
            path: [...where, 'connectPort'],
            message: `is required: real server ${rs.address} has port 0, so the ${c.type} check has no port to connect to`,
          });
        }
      });
    }
  });
}

export const virtualService = virtualServiceObject.superRefine((vs, ctx) => {
  checkSchedulerOptions(vs, ctx);
  checkPersistence(vs, ctx);
  if (vs.tunnel !== undefined && vs.forwarding !== 'tun' && !vs.realServers.some((rs) => rs.forwarding === 'tun')) {
    ctx.addIssue({ code: 'custom', path: ['tunnel'], message: 'is only used when the service or a real server forwards with tun' });
  }
  checkRealServers(vs, ctx);
  if (vs.quorum >= 1 && vs.hysteresis >= vs.quorum) {
    ctx.addIssue({
      code: 'custom',
      path: ['hysteresis'],
      message: `(${vs.hysteresis}) must be less than the quorum (${vs.quorum}), or the quorum could never be lost`,
    });
  }
  if (vs.sorryServer) {
    checkDestination(vs, vs.sorryServer, ['sorryServer'], ctx);
    const s = vs.sorryServer;
    const i = vs.realServers.findIndex((rs) => rs.address === s.address && rs.port === s.port);
    if (i >= 0) ctx.addIssue({ code: 'custom', path: ['sorryServer', 'address'], message: `is also realServers[${i}]; a sorry server must be separate` });
  }
});
export type VirtualService = z.infer<typeof virtualService>;

/** The forwarding method a real server actually uses. */
export const forwardingOf = (vs: Pick<VirtualService, 'forwarding'>, rs: Pick<RealServer, 'forwarding'>): Forwarding =>
  rs.forwarding ?? vs.forwarding;

/** The checks that decide a real server's health: its own, else the service's. */
export const healthChecksOf = (vs: Pick<VirtualService, 'healthChecks'>, rs: Pick<RealServer, 'healthChecks'>): HealthCheck[] =>
  rs.healthChecks ?? vs.healthChecks;
