import type { RtNetlinkSocket, rt } from 'netlink';
import { createRtNetlink } from 'netlink';
import { inNetns } from '../netns.js';

// Link states as VRRP tracking needs them: administratively up is not enough, the carrier counts
// (a veth whose peer went down, a cable pulled). The kernel tells every change to the members of
// the RTNLGRP_LINK multicast group; on each one the whole table is read again on a second socket,
// so a notification can never be applied out of order with a dump. A slow periodic re-read covers
// notifications the kernel dropped (socket overrun).

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

/** Decodes one RTM_NEWLINK message. */
export function linkStatus(m: rt.LinkMessage): LinkStatus {
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
  };
}

/** LinkWatch on rtnetlink: RTNLGRP_LINK notifications, each followed by a dump. */
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
    this.events.on('message', (msgs) => {
      if (msgs.some((m) => m.kind === 'link')) this.reread();
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
    return (await this.requests.getLinks()).map(linkStatus);
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
