import { inNetns } from '../netns.js';
import { ProbeError } from './errors.js';
import {
  AF_INET,
  EAGAIN,
  EPOLLIN,
  EPOLL_CTL_ADD,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  MSG_DONTWAIT,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_SOCKET,
  SO_MARK,
  errnoName,
  libc,
} from './libc.js';
import { type SockAddr, sockaddr } from './sockaddr.js';

// ICMP echo probes (keepalived's PING_CHECK) on raw ICMP / ICMPv6 sockets, one per source address
// and mark, shared by every probe that uses them. Requests carry this pinger's identifier and a
// sequence number per probe; replies and "destination unreachable" errors are matched back by
// both (and by the replying address). One epoll set holds the sockets; one epoll_wait at a time
// runs on koffi's worker. Needs CAP_NET_RAW, as keepalived and ping do.

export interface PingTarget {
  address: string;
  /** No echo reply by then is a failure. */
  timeoutMs: number;
  /** Source address of the requests (keepalived's bindto); IPv6 link-local with %interface. */
  source?: string;
  /** SO_MARK on the requests. */
  mark?: number;
}

export interface PreparedPing {
  readonly target: Readonly<PingTarget>;
}

export type PingOutcome =
  | { ok: true; latencyMs: number }
  | {
      ok: false;
      /** socket: sendto failed (errno); unreachable: an ICMP error came back; deadline: no reply in time; aborted. */
      failure: 'socket' | 'unreachable' | 'deadline' | 'aborted';
      errno?: string;
      message: string;
      latencyMs: number;
    };

export interface IcmpPinger {
  /** Validates the target and opens (or shares) its socket; throws ProbeError (EPERM without CAP_NET_RAW). */
  prepare(target: PingTarget): PreparedPing;
  /** Sends one echo request; `done` is called exactly once, possibly before ping() returns. */
  ping(prepared: PreparedPing, done: (outcome: PingOutcome) => void, signal?: AbortSignal): void;
  readonly pending: number;
  /** Fails pings in flight as aborted and closes the sockets. Idempotent. */
  close(): Promise<void>;
}

export interface IcmpPingerOptions {
  /** Named network namespace (/run/netns/<name>) to open the sockets in; default the caller's. */
  netns?: string;
}

export function openIcmpPinger(opts: IcmpPingerOptions = {}): IcmpPinger {
  return new RawIcmpPinger(opts.netns);
}

const EVENT_SIZE = 12;
const MAX_EVENTS = 64;
const MAX_WAIT_MS = 20;
const PAYLOAD = 16;
const ECHO_REQUEST = 8;
const ECHO_REPLY = 0;
const DEST_UNREACH = 3;
const ECHO_REQUEST_V6 = 128;
const ECHO_REPLY_V6 = 129;
const DEST_UNREACH_V6 = 1;

const UNREACH_V4: Record<number, string> = {
  0: 'network unreachable', 1: 'host unreachable', 2: 'protocol unreachable', 3: 'port unreachable',
  9: 'network administratively prohibited', 10: 'host administratively prohibited', 13: 'communication administratively prohibited',
};
const UNREACH_V6: Record<number, string> = {
  0: 'no route to destination', 1: 'communication administratively prohibited', 3: 'address unreachable', 4: 'port unreachable',
};

class Channel {
  constructor(
    readonly fd: number,
    readonly family: number,
  ) {}
}

class Prepared implements PreparedPing {
  constructor(
    readonly target: Readonly<PingTarget>,
    readonly peer: SockAddr,
    readonly channel: Channel,
  ) {}
}

class InFlight {
  settled = false;
  deadline = 0;
  constructor(
    readonly pinger: RawIcmpPinger,
    readonly plan: Prepared,
    readonly seq: number,
    readonly started: number,
    readonly done: (outcome: PingOutcome) => void,
    readonly signal: AbortSignal | undefined,
  ) {}

  handleEvent(): void {
    this.pinger.cancel(this, 'cancelled while waiting for the echo reply');
  }
}

class RawIcmpPinger implements IcmpPinger {
  private readonly c = libc();
  private readonly epfd: number;
  private readonly channels = new Map<string, Channel>();
  /** In flight by sequence number; the identifier is this pinger's. */
  private readonly bySeq = new Map<number, InFlight>();
  private readonly byDeadline: InFlight[] = [];
  private readonly id = Math.floor(Math.random() * 0xffff) + 1;
  private seq = 0;
  private readonly packet = Buffer.alloc(8 + PAYLOAD);
  private readonly rxBuf = Buffer.alloc(2048);
  private readonly rxAddr = Buffer.alloc(28);
  private readonly rxAddrLen = new Uint32Array(1);
  private readonly events = Buffer.alloc(EVENT_SIZE * MAX_EVENTS);
  private waiting = false;
  private closed = false;
  private waitDone: (() => void) | null = null;

  constructor(private readonly netns: string | undefined) {
    this.epfd = this.c.epoll_create1(SOCK_CLOEXEC);
    if (this.epfd < 0) throw this.lastError('epoll_create1');
  }

  get pending(): number {
    return this.bySeq.size;
  }

  prepare(target: PingTarget): PreparedPing {
    if (!(target.timeoutMs > 0) || !Number.isFinite(target.timeoutMs)) {
      throw new ProbeError('EINVAL', `timeoutMs ${target.timeoutMs} is not a positive number`);
    }
    if (target.mark !== undefined && (!Number.isInteger(target.mark) || target.mark < 0 || target.mark > 0xffffffff)) {
      throw new ProbeError('EINVAL', `mark ${target.mark} is not a 32-bit unsigned integer`);
    }
    const peer = sockaddr(target.address, 0, 'target address');
    const source = target.source === undefined ? null : sockaddr(target.source, 0, 'source address');
    if (source !== null && source.family !== peer.family) {
      throw new ProbeError('EINVAL', `source address ${target.source} and target ${target.address} are not of the same family`);
    }
    return new Prepared({ ...target }, peer, this.channel(peer.family, source, target.mark));
  }

  /** The shared socket for a family, source and mark, opened on first use. */
  private channel(family: number, source: SockAddr | null, mark: number | undefined): Channel {
    const key = `${family}|${source?.bytes.toString('hex') ?? ''}|${mark ?? ''}`;
    const hit = this.channels.get(key);
    if (hit !== undefined) return hit;
    if (this.closed) throw new ProbeError('EBADF', 'the pinger is closed');
    const c = this.c;
    const proto = family === AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    const open = (): number => c.socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    const [fd, err] = this.netns === undefined ? [open(), c.errno()] : inNetns(this.netns, () => [open(), c.errno()] as const);
    const what = family === AF_INET ? 'raw ICMP socket' : 'raw ICMPv6 socket';
    if (fd < 0) throw new ProbeError(errnoName(err), `${what}: ${c.strerror(err)}${err === 1 ? ' (needs CAP_NET_RAW)' : ''}`);
    const fail = (call: string): never => {
      const e = this.lastError(`${call} (${what})`);
      c.close(fd);
      throw e;
    };
    if (mark !== undefined) {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(mark);
      if (c.setsockopt(fd, SOL_SOCKET, SO_MARK, b, 4) !== 0) fail('setsockopt SO_MARK');
    }
    if (source !== null && c.bind(fd, source.bytes, source.bytes.length) !== 0) fail('bind');
    const ev = Buffer.alloc(EVENT_SIZE);
    ev.writeUInt32LE(EPOLLIN, 0);
    ev.writeUInt32LE(fd, 4);
    if (c.epoll_ctl(this.epfd, EPOLL_CTL_ADD, fd, ev) !== 0) fail('epoll_ctl');
    const ch = new Channel(fd, family);
    this.channels.set(key, ch);
    return ch;
  }

  ping(prepared: PreparedPing, done: (outcome: PingOutcome) => void, signal?: AbortSignal): void {
    const started = performance.now();
    if (!(prepared instanceof Prepared)) throw new ProbeError('EINVAL', 'ping() takes what prepare() returned');
    if (this.closed) return done(failure('aborted', 'the pinger is closed', started));
    if (signal?.aborted) return done(failure('aborted', 'cancelled before it started', started));
    if (this.bySeq.size >= 0xffff) return done(failure('socket', 'too many echo requests in flight', started, 'ENOBUFS'));
    do this.seq = (this.seq + 1) & 0xffff;
    while (this.bySeq.has(this.seq));
    const ch = prepared.channel;
    const pkt = this.packet;
    const v4 = ch.family === AF_INET;
    pkt.fill(0);
    pkt[0] = v4 ? ECHO_REQUEST : ECHO_REQUEST_V6;
    pkt.writeUInt16BE(this.id, 4);
    pkt.writeUInt16BE(this.seq, 6);
    pkt.writeDoubleBE(started, 8);
    // The kernel fills in the ICMPv6 checksum (it covers a pseudo-header); ICMPv4's is ours.
    if (v4) pkt.writeUInt16BE(checksum(pkt), 2);
    const peer = prepared.peer.bytes;
    if (this.c.sendto(ch.fd, pkt, pkt.length, MSG_DONTWAIT, peer, peer.length) < 0) {
      const e = this.c.errno();
      const kind = e === 101 || e === 113 || e === 100 || e === 112 ? 'unreachable' : 'socket';
      return done(failure(kind, `sendto ${prepared.target.address}: ${this.c.strerror(e)}`, started, errnoName(e)));
    }
    const p = new InFlight(this, prepared, this.seq, started, done, signal);
    p.deadline = started + prepared.target.timeoutMs;
    this.bySeq.set(p.seq, p);
    insertByDeadline(this.byDeadline, p);
    signal?.addEventListener('abort', p, { once: true });
    this.wait();
  }

  cancel(p: InFlight, message: string): void {
    if (!p.settled) this.settle(p, failure('aborted', message, p.started));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.bySeq.values()]) this.cancel(p, 'the pinger was closed');
    if (this.waiting) await new Promise<void>((resolve) => (this.waitDone = resolve));
    for (const ch of this.channels.values()) this.c.close(ch.fd);
    this.channels.clear();
    this.c.close(this.epfd);
  }

  private wait(): void {
    if (this.waiting || this.closed || this.bySeq.size === 0) return;
    this.waiting = true;
    const first = this.byDeadline[0];
    const timeout = first === undefined ? MAX_WAIT_MS : Math.max(0, Math.min(MAX_WAIT_MS, Math.ceil(first.deadline - performance.now())));
    this.c.epoll_wait.async(this.epfd, this.events, MAX_EVENTS, timeout, this.woke);
  }

  private readonly woke = (err: unknown, n: number): void => {
    const count = err || this.closed ? 0 : n;
    // Read every socket that has something, before callbacks can start new waits.
    for (let i = 0; i < count; i++) {
      const fd = this.events.readUInt32LE(i * EVENT_SIZE + 4);
      for (const ch of this.channels.values()) if (ch.fd === fd) this.drain(ch);
    }
    if (!this.closed) this.expire(performance.now());
    this.waiting = false;
    const closing = this.waitDone as (() => void) | null;
    this.waitDone = null;
    if (closing !== null) closing();
    else this.wait();
  };

  private drain(ch: Channel): void {
    const c = this.c;
    for (;;) {
      this.rxAddrLen[0] = this.rxAddr.length;
      const n = c.recvfrom(ch.fd, this.rxBuf, this.rxBuf.length, MSG_DONTWAIT, this.rxAddr, this.rxAddrLen);
      if (n < 0) {
        if (c.errno() === EAGAIN) return;
        return; // an error on a raw socket concerns no probe in particular; the deadline covers it
      }
      if (ch.family === AF_INET) this.onV4(this.rxBuf.subarray(0, n));
      else this.onV6(this.rxBuf.subarray(0, n));
    }
  }

  /** A raw ICMPv4 socket reads whole IP packets. */
  private onV4(b: Buffer): void {
    if (b.length < 20) return;
    const ihl = ((b[0] as number) & 0x0f) * 4;
    const icmp = b.subarray(ihl);
    if (icmp.length < 8) return;
    const type = icmp[0];
    if (type === ECHO_REPLY) {
      this.replied(icmp.readUInt16BE(4), icmp.readUInt16BE(6), b.subarray(12, 16));
    } else if (type === DEST_UNREACH && icmp.length >= 8 + 20 + 8) {
      const inner = icmp.subarray(8);
      const innerIhl = ((inner[0] as number) & 0x0f) * 4;
      const echo = inner.subarray(innerIhl);
      if (inner[9] !== IPPROTO_ICMP || echo.length < 8 || echo[0] !== ECHO_REQUEST) return;
      const code = icmp[1] as number;
      this.unreachable(echo.readUInt16BE(4), echo.readUInt16BE(6), inner.subarray(16, 20), b.subarray(12, 16), UNREACH_V4[code] ?? `unreachable (code ${code})`);
    }
  }

  /** A raw ICMPv6 socket reads the ICMPv6 message only; the sender is in the socket address. */
  private onV6(icmp: Buffer): void {
    if (icmp.length < 8) return;
    const from = this.rxAddr.subarray(8, 24);
    const type = icmp[0];
    if (type === ECHO_REPLY_V6) {
      this.replied(icmp.readUInt16BE(4), icmp.readUInt16BE(6), from);
    } else if (type === DEST_UNREACH_V6 && icmp.length >= 8 + 40 + 8) {
      const inner = icmp.subarray(8);
      const echo = inner.subarray(40);
      if (inner[6] !== IPPROTO_ICMPV6 || echo[0] !== ECHO_REQUEST_V6) return;
      const code = icmp[1] as number;
      this.unreachable(echo.readUInt16BE(4), echo.readUInt16BE(6), inner.subarray(24, 40), from, UNREACH_V6[code] ?? `unreachable (code ${code})`);
    }
  }

  private match(id: number, seq: number, dst: Buffer): InFlight | undefined {
    if (id !== this.id) return undefined;
    const p = this.bySeq.get(seq);
    if (p === undefined || p.settled) return undefined;
    const peer = p.plan.peer;
    const addr = peer.family === AF_INET ? peer.bytes.subarray(4, 8) : peer.bytes.subarray(8, 24);
    return addr.equals(dst) ? p : undefined;
  }

  private replied(id: number, seq: number, from: Buffer): void {
    const p = this.match(id, seq, from);
    if (p !== undefined) this.settle(p, { ok: true, latencyMs: elapsed(p.started) });
  }

  private unreachable(id: number, seq: number, originalDst: Buffer, reporter: Buffer, what: string): void {
    const p = this.match(id, seq, originalDst);
    if (p === undefined) return;
    const by = ipText(reporter, p.plan.peer.family);
    this.settle(p, failure('unreachable', `${p.plan.target.address}: ${what} (reported by ${by})`, p.started, 'EHOSTUNREACH'));
  }

  private expire(now: number): void {
    const q = this.byDeadline;
    let i = 0;
    while (i < q.length && ((q[i] as InFlight).settled || (q[i] as InFlight).deadline <= now)) i += 1;
    if (i === 0) return;
    const due = q.splice(0, i);
    for (const p of due) {
      if (!p.settled) this.settle(p, failure('deadline', `no echo reply from ${p.plan.target.address} within ${p.plan.target.timeoutMs} ms`, p.started, 'ETIMEDOUT'));
    }
  }

  private settle(p: InFlight, outcome: PingOutcome): void {
    p.settled = true;
    this.bySeq.delete(p.seq);
    p.signal?.removeEventListener('abort', p);
    p.done(outcome);
  }

  private lastError(call: string): ProbeError {
    const e = this.c.errno();
    return new ProbeError(errnoName(e), `${call}: ${this.c.strerror(e)}`);
  }
}

/** Keeps the list in deadline order; probes mostly share a timeout, so the new one usually goes last. */
function insertByDeadline(q: InFlight[], p: InFlight): void {
  let i = q.length;
  while (i > 0 && (q[i - 1] as InFlight).deadline > p.deadline) i -= 1;
  q.splice(i, 0, p);
}

/** The Internet checksum (RFC 1071) of an even-length buffer whose checksum field is zero. */
export function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2 === 1) sum += (b[b.length - 1] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipText(b: Buffer, family: number): string {
  if (family === AF_INET) return Array.from(b).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

function elapsed(started: number): number {
  return Math.max(0, Math.round((performance.now() - started) * 1000) / 1000);
}

function failure(kind: Extract<PingOutcome, { ok: false }>['failure'], message: string, started: number, errno?: string): PingOutcome {
  return { ok: false, failure: kind, ...(errno !== undefined ? { errno } : {}), message, latencyMs: elapsed(started) };
}
