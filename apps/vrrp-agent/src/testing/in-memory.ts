import type { AddressControl, ArpAnnouncer, LinkStatus, LinkWatch, ReceivedPacket, VrrpSocket } from '@fulcrum/netlink';
import { InMemoryAddresses } from '@fulcrum/netlink/testing';
import pino from 'pino';
import { Registry } from 'prom-client';
import { VrrpAgent } from '../agent/agent.js';
import type { AgentOptions, VrrpStateData } from '../agent/agent.js';

// Agents on an in-memory Ethernet segment: the real agent code (routers, sync groups, tracking,
// metrics) without root. Packets are whole IPv4 packets as the raw socket sees them; each socket's
// receive() gives up after 100 ms (of the timers in use, fake or real) like the real one.

export class Segment {
  readonly sockets: FakeSocket[] = [];
  open(iface: string, owner: string): FakeSocket {
    const s = new FakeSocket(iface, owner, this);
    this.sockets.push(s);
    return s;
  }
  deliver(from: FakeSocket, packet: Buffer): void {
    for (const s of this.sockets) if (s !== from && s.iface === from.iface) s.push(Buffer.from(packet));
  }
}

/** IPv4 only: packets are whole IPv4 packets, as the raw socket sees them. */
export class FakeSocket implements VrrpSocket {
  readonly family = 'ipv4';
  readonly ifindex = 2;
  private readonly queue: Buffer[] = [];
  private waiter: ((b: Buffer | null) => void) | null = null;
  closed = false;
  constructor(
    readonly iface: string,
    readonly owner: string,
    private readonly segment: Segment,
  ) {}
  get interface(): string {
    return this.iface;
  }
  send(packet: Uint8Array): void {
    if (this.closed) throw new Error('closed');
    this.segment.deliver(this, Buffer.from(packet));
  }
  push(b: Buffer): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(b);
    } else this.queue.push(b);
  }
  receive(): Promise<ReceivedPacket | null> {
    const next = this.queue.shift();
    if (next || this.closed) return Promise.resolve(next ? { family: 'ipv4', data: next } : null);
    return new Promise((resolve) => {
      const waiter = (b: Buffer | null) => resolve(b ? { family: 'ipv4', data: b } : null);
      this.waiter = waiter;
      setTimeout(() => {
        if (this.waiter === waiter) {
          this.waiter = null;
          resolve(null);
        }
      }, 100);
    });
  }
  receiveNow(): ReceivedPacket | null {
    const next = this.queue.shift();
    return next && !this.closed ? { family: 'ipv4', data: next } : null;
  }
  async close(): Promise<void> {
    this.closed = true;
    this.waiter?.(null);
    this.waiter = null;
  }
}

/**
 * Link states and addresses of an in-memory kernel, read every `everyMs` (the double has no
 * notifications); its links have a carrier exactly when they are up.
 */
export class PolledLinks implements LinkWatch {
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly addresses: AddressControl,
    private readonly everyMs = 50,
  ) {}
  private async read(): Promise<LinkStatus[]> {
    const addresses = await this.addresses.addresses();
    return (await this.addresses.links()).map((l) => ({
      index: l.index,
      name: l.name,
      adminUp: l.up,
      carrier: l.up,
      operState: l.up ? 'up' : 'down',
      usable: l.up,
      // The double has no duplicate address detection: an address is usable once added.
      addresses: addresses.filter((a) => a.link === l.name).map((a) => ({ address: a.address, prefix: a.prefix, family: a.family, tentative: false })),
    }));
  }
  async watch(listener: (links: readonly LinkStatus[]) => void): Promise<readonly LinkStatus[]> {
    this.timer = setInterval(() => void this.read().then(listener), this.everyMs);
    this.timer.unref();
    return this.read();
  }
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }
}

export interface Node {
  agent: VrrpAgent;
  addresses: InMemoryAddresses;
  events: VrrpStateData[];
  arps: string[];
  registry: Registry;
}

export const segment = (): Segment => new Segment();

export async function node(seg: Segment, host: string, address: string, links: string[] = ['eth0'], extra: Pick<AgentOptions, 'dataPlane'> = {}): Promise<Node> {
  const addresses = new InMemoryAddresses({ links: ['lo', ...links] });
  for (const l of links) await addresses.linkUp(l);
  await addresses.addAddress('eth0', address, 24);
  const events: VrrpStateData[] = [];
  const arps: string[] = [];
  const registry = new Registry();
  const agent = new VrrpAgent({
    host,
    logger: pino({ level: 'silent' }),
    registry,
    clock: { now: () => Date.now() },
    kernel: {
      addresses,
      links: new PolledLinks(addresses),
      openChannel: ({ interface: iface }) => seg.open(iface, host),
      openAnnouncer: (iface): ArpAnnouncer => ({ interface: iface, mac: '02:00:00:00:00:01', announce: (a) => void arps.push(a), close: () => undefined }),
    },
    announce: { count: 3, intervalMs: 0, repeatDelayMs: 0, refreshMs: 0 },
    onState: (d) => events.push(d),
    ...extra,
  });
  return { agent, addresses, events, arps, registry };
}

