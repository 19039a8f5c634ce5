import { formatIpvsadmSave, parseIpvsadmRestore, virtualServiceIdFor } from '@fulcrum/formats';
import {
  type DesiredObject,
  type IpvsService,
  type VirtualService,
  fromIpvsForward,
  toIpvsDestination,
  toIpvsService,
} from '@fulcrum/schemas';


// ipvsadm-save text <-> virtual services. The text carries only the kernel table, so checks, quorum and sorry
// servers are not in it: an import gives services without checks, an export leaves them out.

export interface ImportResult {
  objects: Record<string, unknown>[];
  warnings: { line?: number; message: string }[];
}

export function importIpvsadmSave(text: string): ImportResult {
  const { table } = parseIpvsadmRestore(text);
  const warnings: ImportResult['warnings'] = [];
  const objects = table.services.map((s) => toVirtualService(s, warnings));
  return { objects, warnings };
}

function toVirtualService(s: IpvsService, warnings: ImportResult['warnings']): Record<string, unknown> {
  const match =
    s.key.kind === 'addr'
      ? { kind: 'address' as const, protocol: s.key.protocol, address: s.key.address, port: s.key.port }
      : { kind: 'fwmark' as const, fwmark: s.key.fwmark, family: s.key.family };
  const flags = s.flags;
  const schedulerFlags = [
    ...(flags.shFallback ? ['sh-fallback'] : []),
    ...(flags.shPort ? ['sh-port'] : []),
    ...(flags.mhFallback ? ['mh-fallback'] : []),
    ...(flags.mhPort ? ['mh-port'] : []),
  ];
  const realServers = s.destinations.flatMap((d) => {
    const forwarding = fromIpvsForward(d.forward);
    if (forwarding === null) {
      warnings.push({ message: `${d.address}:${d.port} forwards locally (the director itself), which has no desired-state form: left out` });
      return [];
    }
    return [
      {
        address: d.address,
        port: d.port,
        weight: d.weight,
        forwarding,
        ...(d.upperThreshold ? { upperThreshold: d.upperThreshold } : {}),
        ...(d.lowerThreshold ? { lowerThreshold: d.lowerThreshold } : {}),
        ...(forwarding === 'tun' && d.tunnelType !== 'ipip'
          ? { tunnel: { type: d.tunnelType, ...(d.tunnelType === 'gue' ? { port: d.tunnelPort } : {}), checksum: d.tunnelFlags[0] ?? 'nocsum' } }
          : {}),
      },
    ];
  });
  // The most common forwarding becomes the service's, so real servers only say it when they differ.
  const counts = new Map<string, number>();
  for (const rs of realServers) counts.set(rs.forwarding, (counts.get(rs.forwarding) ?? 0) + 1);
  const forwarding = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'nat';
  return {
    kind: 'virtual-service',
    id: virtualServiceIdFor(match),
    match,
    scheduler: s.scheduler,
    ...(schedulerFlags.length ? { schedulerFlags } : {}),
    ...(flags.onePacket ? { onePacket: true } : {}),
    ...(s.persistence > 0 ? { persistenceTimeout: s.persistence } : {}),
    ...(s.persistence > 0 && s.persistencePrefix !== undefined && s.persistencePrefix !== (match.kind === 'address' && match.address.includes(':') ? 128 : 32)
      ? { persistencePrefix: s.persistencePrefix }
      : {}),
    ...(s.persistenceEngine === 'sip' ? { persistenceEngine: 'sip' } : {}),
    forwarding,
    realServers: realServers.map(({ forwarding: f, ...rest }) => (f === forwarding ? rest : { ...rest, forwarding: f })),
  };
}

export function exportIpvsadmSave(objects: readonly DesiredObject[]): string {
  const services = objects
    .filter((o): o is VirtualService & { kind: 'virtual-service' } => o.kind === 'virtual-service')
    .map((vs) => toIpvsService(vs, vs.realServers.map((rs) => toIpvsDestination(vs, rs, rs.weight))));
  return formatIpvsadmSave({ services });
}
