import type { IpvsDestination, IpvsForward, IpvsService, IpvsServiceFlags, IpvsServiceKey } from './ipvs-table.js';
import type { Forwarding, RealServer, ServiceMatch, TunnelSpec, VirtualService } from './virtual-service.js';
import { forwardingOf } from './virtual-service.js';

// The simple, direct translations between the desired VirtualService and the kernel's table model. Which
// weight a destination gets (health, drain, quorum) is the ipvs-agent's business, so it is a parameter here.

const TO_KERNEL: Record<Forwarding, IpvsForward> = { nat: 'masq', dr: 'route', tun: 'tunnel' };

/** nat -> masq, dr -> route, tun -> tunnel. */
export const toIpvsForward = (f: Forwarding): IpvsForward => TO_KERNEL[f];

/** masq -> nat, route -> dr, tunnel -> tun; 'local' (the director itself) has no desired-state form: null. */
export function fromIpvsForward(f: IpvsForward): Forwarding | null {
  switch (f) {
    case 'masq':
      return 'nat';
    case 'route':
      return 'dr';
    case 'tunnel':
      return 'tun';
    case 'local':
      return null;
  }
}

export function toIpvsServiceKey(match: ServiceMatch): IpvsServiceKey {
  return match.kind === 'address'
    ? { kind: 'addr', protocol: match.protocol, address: match.address, port: match.port }
    : { kind: 'fwmark', fwmark: match.fwmark, family: match.family };
}

export function toIpvsFlags(vs: Pick<VirtualService, 'schedulerFlags' | 'onePacket'>): IpvsServiceFlags {
  const has = (f: VirtualService['schedulerFlags'][number]) => vs.schedulerFlags.includes(f);
  return {
    onePacket: vs.onePacket,
    shFallback: has('sh-fallback'),
    shPort: has('sh-port'),
    mhFallback: has('mh-fallback'),
    mhPort: has('mh-port'),
  };
}

const tunnelFlags = (t: TunnelSpec): IpvsDestination['tunnelFlags'] =>
  t.checksum === 'csum' ? ['csum'] : t.checksum === 'remcsum' ? ['remcsum'] : [];

/** The kernel destination for a real server, with the weight the agent decided on. */
export function toIpvsDestination(vs: VirtualService, rs: RealServer, weight: number): IpvsDestination {
  const forward = forwardingOf(vs, rs);
  const tunnel: TunnelSpec = rs.tunnel ?? vs.tunnel ?? { type: 'ipip', checksum: 'nocsum' };
  const tun = forward === 'tun';
  return {
    address: rs.address,
    port: rs.port,
    forward: toIpvsForward(forward),
    weight,
    upperThreshold: rs.upperThreshold,
    lowerThreshold: rs.lowerThreshold,
    tunnelType: tun ? tunnel.type : 'ipip',
    tunnelPort: tun ? (tunnel.port ?? 0) : 0,
    tunnelFlags: tun ? tunnelFlags(tunnel) : [],
  };
}

/** The kernel service for a virtual service with the given destinations. */
export function toIpvsService(vs: VirtualService, destinations: IpvsDestination[]): IpvsService {
  const service: IpvsService = {
    key: toIpvsServiceKey(vs.match),
    scheduler: vs.scheduler,
    flags: toIpvsFlags(vs),
    persistence: vs.persistenceTimeout ?? 0,
    destinations,
  };
  if (vs.persistencePrefix !== undefined) service.persistencePrefix = vs.persistencePrefix;
  if (vs.persistenceEngine !== undefined) service.persistenceEngine = vs.persistenceEngine;
  return service;
}
