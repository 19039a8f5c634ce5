import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** The agent's Prometheus metrics; labels are the instance id (and the drop or error reason). */
export interface AgentMetrics {
  advertsSent: Counter<'instance'>;
  advertsReceived: Counter<'instance'>;
  /** Packets dropped before reaching an instance (decode) or by it (check), by reason: ttl, checksum, auth... */
  packetsDropped: Counter<'interface' | 'reason'>;
  transitions: Counter<'instance' | 'to'>;
  sendErrors: Counter<'instance'>;
  addressErrors: Counter<'instance'>;
  garpSent: Counter<'instance'>;
  state: Gauge<'instance' | 'state'>;
  priority: Gauge<'instance'>;
}

export function createAgentMetrics(registry: Registry): AgentMetrics {
  const registers = [registry];
  return {
    advertsSent: new Counter({ name: 'fulcrum_vrrp_adverts_sent_total', help: 'VRRP adverts sent', labelNames: ['instance'], registers }),
    advertsReceived: new Counter({
      name: 'fulcrum_vrrp_adverts_received_total',
      help: 'VRRP adverts received that passed every check',
      labelNames: ['instance'],
      registers,
    }),
    packetsDropped: new Counter({
      name: 'fulcrum_vrrp_packets_dropped_total',
      help: 'Received VRRP packets dropped, by reason (ttl, checksum, auth, truncated, length, vrid, interval, ...)',
      labelNames: ['interface', 'reason'],
      registers,
    }),
    transitions: new Counter({ name: 'fulcrum_vrrp_transitions_total', help: 'VRRP state transitions', labelNames: ['instance', 'to'], registers }),
    sendErrors: new Counter({ name: 'fulcrum_vrrp_send_errors_total', help: 'Adverts the kernel refused to send', labelNames: ['instance'], registers }),
    addressErrors: new Counter({
      name: 'fulcrum_vrrp_address_errors_total',
      help: 'Virtual address changes the kernel refused',
      labelNames: ['instance'],
      registers,
    }),
    garpSent: new Counter({
      name: 'fulcrum_vrrp_gratuitous_arp_sent_total',
      help: 'Gratuitous ARPs (IPv4) and unsolicited neighbour advertisements (IPv6) sent for the virtual addresses',
      labelNames: ['instance'],
      registers,
    }),
    state: new Gauge({ name: 'fulcrum_vrrp_state', help: '1 for the state each instance is in', labelNames: ['instance', 'state'], registers }),
    priority: new Gauge({ name: 'fulcrum_vrrp_priority', help: 'Effective priority each instance advertises', labelNames: ['instance'], registers }),
  };
}
