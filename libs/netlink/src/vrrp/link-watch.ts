import type { AddressFamily } from '@fulcrum/schemas';
import type { RtNetlinkSocket, rt } from 'netlink';
import { createRtNetlink } from 'netlink';
import { bytesToIp } from '../ip.js';
import { inNetns } from '../netns.js';

// Link states as VRRP tracking needs them: administratively up is not enough, the carrier counts
// (a veth whose peer went down, a cable pulled), and so do the addresses (an IPv6 instance sends
// from the link-local address, which exists only once duplicate address detection is done). The
// kernel tells every change to the members of the RTNLGRP_LINK and RTNLGRP_IPV4/6_IFADDR multicast
// groups; on each one the links and addresses are read again on a second socket, so a notification
// can never be applied out of order with a dump. A slow periodic re-read covers notifications the
// kernel dropped (socket overrun).

/** IF_OPER_* (RFC 2863 operational state), as /sys/class/net/<if>/operstate names them. */
export type OperState = 'unknown' | 'notpresent' | 'down' | 'lowerlayerdown' | 'testing' | 'dormant' | 'up';
const OPER_STATES: readonly OperState[] = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];

export interface LinkStatus {
  readonly index: number;
  readonly name: string;
  /** IFF_UP: `ip link set X up`. */
  readonly adminUp: boolean;
  /** IFF_LOWER_UP: the driver sees a carrier. */
  readonly carrier: boolean;
  readonly operState: OperState;
  /** Up for VRRP: IFF_UP and IFF_RUNNING (operational state up or unknown), keepalived's test. */
  readonly usable: boolean;
  /** Its addresses, in the kernel's order. */
  readonly addresses: readonly LinkAddress[];
}

export interface LinkAddress {
  /** Canonical text form. */
  readonly address: string;
  readonly prefix: number;
  readonly family: AddressFamily;
  /**
   * Not usable as a source: IPv6 duplicate address detection is still running (IFA_F_TENTATIVE) or
   * found a duplicate (IFA_F_DADFAILED).
   */
  readonly tentative: boolean;
}

export interface LinkWatch {
  /**
   * Every link now; afterwards `listener` gets every link again after each change the kernel
   * reports. Call once.
   */
  watch(listener: (links: readonly LinkStatus[]) => void): Promise<readonly LinkStatus[]>;
  close(): Promise<void>;
}

export interface RtnetlinkLinkWatchOptions {
  /** Named network namespace (/run/netns/<name>); default the caller's. */
  netns?: string;
  /** A full re-read this often besides the notifications, in ms; default 10 s. */
  resyncMs?: number;
  /** Told when a re-read fails (the next notification or resync tries again). */
  onError?: (err: unknown) => void;
}

const AF_INET = 2;
const AF_INET6 = 10;

/** Decodes one RTM_NEWADDR message with the index of its link; null for other families. */
export function linkAddress(m: rt.AddressMessage): { index: number; address: LinkAddress } | null {
  const family: AddressFamily | null = m.data.family === AF_INET ? 'inet' : m.data.family === AF_INET6 ? 'inet6' : null;
  // IPv4 point-to-point links put the peer in IFA_ADDRESS and our end in IFA_LOCAL.
  const raw = family === 'inet' ? (m.attrs.local ?? m.attrs.address) : m.attrs.address;
  if (!family || !raw) return null;
  // IFA_FLAGS (32 bits) supersedes the header's 8-bit field when present.
  const flags = m.attrs.flags ?? m.data.flags ?? {};
  return {
    index: m.data.index ?? 0,
    address: { address: bytesToIp(raw, family), prefix: m.data.prefixlen ?? 0, family, tentative: flags.tentative === true || flags.dadfailed === true },
  };
}

/** Decodes one RTM_NEWLINK message; its addresses come from the address dump. */
export function linkStatus(m: rt.LinkMessage, addresses: readonly LinkAddress[] = []): LinkStatus {
  const flags = m.data.flags ?? {};
  const oper = OPER_STATES[m.attrs.operstate ?? 0] ?? 'unknown';
  const adminUp = flags.up === true;
  return {
    index: m.data.index ?? 0,
    name: m.attrs.ifname ?? '',
    adminUp,
    carrier: flags.lowerUp === true,
    operState: oper,
    usable: adminUp && flags.running === true,
    addresses,
  };
}

/** LinkWatch on rtnetlink: link and address notifications, each followed by a dump of both. */
export class RtnetlinkLinkWatch implements LinkWatch {
  private readonly events: RtNetlinkSocket;
  private readonly requests: RtNetlinkSocket;
  private listener: ((links: readonly LinkStatus[]) => void) | null = null;
  private reading: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: RtnetlinkLinkWatchOptions = {}) {
    const open = () => [createRtNetlink(), createRtNetlink()] as const;
    [this.events, this.requests] = opts.netns ? inNetns(opts.netns, open) : open();
    this.events.addMembership('LINK');
    this.events.addMembership('IPV4_IFADDR');
    this.events.addMembership('IPV6_IFADDR');
    this.events.on('message', (msgs) => {
      if (msgs.some((m) => m.kind === 'link' || m.kind === 'address')) this.reread();
    });
    // ENOBUFS: notifications were lost; a dump finds out what they said.
    this.events.socket.on('error', (err) => {
      this.opts.onError?.(err);
      this.reread();
    });
    this.requests.socket.on('error', (err) => this.opts.onError?.(err));
  }

  async watch(listener: (links: readonly LinkStatus[]) => void): Promise<readonly LinkStatus[]> {
    const now = await this.dump();
    this.listener = listener;
    const every = this.opts.resyncMs ?? 10_000;
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.reread(), every);
    this.timer.unref();
    return now;
  }

  private async dump(): Promise<LinkStatus[]> {
    const links = await this.requests.getLinks();
    // One request at a time on a socket: the addresses after the links.
    const byLink = new Map<number, LinkAddress[]>();
    for (const m of await this.requests.getAddresses()) {
      const a = linkAddress(m);
      if (a) byLink.set(a.index, [...(byLink.get(a.index) ?? []), a.address]);
    }
    return links.map((l) => linkStatus(l, byLink.get(l.data.index ?? 0)));
  }

  /** One dump at a time; changes during a dump cause one more. */
  private reread(): void {
    if (this.closed || !this.listener) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        try {
          const links = await this.dump();
          if (!this.closed) this.listener?.(links);
        } catch (err) {
          this.opts.onError?.(err);
        }
      } while (this.again && !this.closed);
      this.reading = null;
    })();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.reading;
    this.events.socket.close();
    this.requests.socket.close();
  }
}
