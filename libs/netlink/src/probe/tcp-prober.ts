import { inNetns } from '../netns.js';
import { ProbeError } from './errors.js';
import {
  EINPROGRESS,
  EPOLLERR,
  EPOLLHUP,
  EPOLLOUT,
  EPOLL_CTL_ADD,
  POLLOUT,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_ERROR,
  SO_LINGER,
  SO_MARK,
  errnoName,
  libc,
} from './libc.js';
import { type SockAddr, sockaddr } from './sockaddr.js';

// TCP connect probes without a Node socket per probe: each probe is a non-blocking socket whose
// connect() the kernel finishes on its own; one epoll set holds every handshake in flight, and one
// epoll_wait at a time (koffi's async call, on a worker thread) collects the whole batch that
// completed. A completed handshake is closed with a reset, so the checker leaves no TIME_WAIT behind.

/** One configured TCP check: keepalived's TCP_CHECK with connect_timeout, bindto/bind_port and fwmark. */
export interface TcpProbeTarget {
  address: string;
  port: number;
  /** The connect timeout: no completed handshake by then is a failure. */
  timeoutMs: number;
  source?: { address?: string; port?: number };
  /** SO_MARK on the probe's packets (policy routing, keepalived's fwmark). */
  mark?: number;
}

/** A target validated and turned into socket addresses once, reused by every probe of the check. */
export interface PreparedTcpProbe {
  readonly target: Readonly<TcpProbeTarget>;
}

export type TcpProbeFailure = 'socket' | 'deadline' | 'aborted';

/** A probe in flight, as probe() returns it. */
export interface TcpProbeHandle {
  readonly settled: boolean;
}

export type TcpProbeOutcome =
  | { ok: true; latencyMs: number }
  | {
      ok: false;
      /** socket: a call failed or the peer answered with an error; deadline: no handshake in time; aborted: cancelled. */
      failure: TcpProbeFailure;
      /** The errno name for 'socket' (ECONNREFUSED, EHOSTUNREACH, EADDRNOTAVAIL...); ETIMEDOUT / ECANCELED otherwise. */
      errno: string;
      message: string;
      latencyMs: number;
    };

export interface TcpProber {
  /** Validates a target (numeric addresses, ports, timeout, mark); throws ProbeError naming the bad field. */
  prepare(target: TcpProbeTarget): PreparedTcpProbe;
  /**
   * Starts one connect probe; `done` is called exactly once with its outcome, possibly before probe()
   * returns (a local error, a loopback refusal). The signal cancels it. Returns the probe while it is
   * in flight (for cancel()), null once settled.
   */
  probe(prepared: PreparedTcpProbe, done: (outcome: TcpProbeOutcome) => void, signal?: AbortSignal): TcpProbeHandle | null;
  /**
   * Cancels a probe in flight: it settles as aborted with `message`. A no-op once it has settled.
   * Cheaper than a signal per probe when a caller keeps one listener for many probes.
   */
  cancel(handle: TcpProbeHandle, message?: string): void;
  /** Probes in flight. */
  readonly pending: number;
  /** Fails the probes in flight as aborted and releases the epoll set. Idempotent. */
  close(): Promise<void>;
}

export interface TcpProberOptions {
  /**
   * Named network namespace (/run/netns/<name>) to open the probes' sockets in; default the
   * caller's. Each socket is then made with the thread switched in and back, which costs two setns.
   */
  netns?: string;
}

/** Opens a prober; throws ProbeError when epoll is unavailable. */
export function openTcpProber(opts: TcpProberOptions = {}): TcpProber {
  return new EpollTcpProber(opts.netns);
}

const EVENT_SIZE = 12; // struct epoll_event is packed on x86-64: u32 events, u64 data
const MAX_EVENTS = 1024;
/** Longest single wait: bounds how late a deadline is noticed when a shorter one was added meanwhile, and close(). */
const MAX_WAIT_MS = 20;
const MAX_SLOTS = 1 << 24;

class Prepared implements PreparedTcpProbe {
  constructor(
    readonly target: Readonly<TcpProbeTarget>,
    readonly peer: SockAddr,
    readonly source: SockAddr | null,
    readonly mark: Buffer | null,
  ) {}
}

class InFlight implements TcpProbeHandle {
  settled = false;
  index = -1;
  gen = 0;
  deadline = 0;
  constructor(
    readonly prober: EpollTcpProber,
    readonly plan: Prepared,
    readonly fd: number,
    readonly started: number,
    readonly done: (outcome: TcpProbeOutcome) => void,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** The abort signal's listener (an EventListener object, so no closure per probe). */
  handleEvent(): void {
    this.prober.cancel(this, 'cancelled while connecting');
  }
}

/** Probes of one timeout value, in start order, so their deadlines are in order too. */
interface DeadlineQueue {
  items: (InFlight | undefined)[];
  head: number;
}

class EpollTcpProber implements TcpProber {
  private readonly c = libc();
  private readonly epfd: number;
  private readonly slots: (InFlight | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private readonly queues = new Map<number, DeadlineQueue>();
  private readonly events = Buffer.alloc(EVENT_SIZE * MAX_EVENTS);
  /** For the main thread's own non-blocking look, separate from the worker's buffer. */
  private readonly polled = Buffer.alloc(EVENT_SIZE * MAX_EVENTS);
  private lookScheduled = false;
  private readonly event = Buffer.alloc(EVENT_SIZE);
  private readonly intBuf = Buffer.alloc(4);
  private readonly intLen = new Uint32Array(1);
  private readonly pollFd = Buffer.alloc(8);
  private readonly linger = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]); // l_onoff 1, l_linger 0: close sends RST
  private generation = 0;
  private inFlight = 0;
  private waiting = false;
  private closed = false;
  private waitDone: (() => void) | null = null;

  constructor(private readonly netns: string | undefined) {
    this.epfd = this.c.epoll_create1(SOCK_CLOEXEC);
    if (this.epfd < 0) {
      const e = this.c.errno();
      throw new ProbeError(errnoName(e), `epoll_create1: ${this.c.strerror(e)}`);
    }
  }

  get pending(): number {
    return this.inFlight;
  }

  prepare(target: TcpProbeTarget): PreparedTcpProbe {
    if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
      throw new ProbeError('EINVAL', `target port ${target.port} is not 1-65535`);
    }
    if (!(target.timeoutMs > 0) || !Number.isFinite(target.timeoutMs)) {
      throw new ProbeError('EINVAL', `timeoutMs ${target.timeoutMs} is not a positive number`);
    }
    const peer = sockaddr(target.address, target.port, 'target address');
    let source: SockAddr | null = null;
    if (target.source?.address !== undefined || target.source?.port !== undefined) {
      const any = peer.family === 2 ? '0.0.0.0' : '::';
      source = sockaddr(target.source.address ?? any, target.source.port ?? 0, 'source address');
      if (source.family !== peer.family) {
        throw new ProbeError('EINVAL', `source address ${target.source.address} and target ${target.address} are not of the same family`);
      }
    }
    let mark: Buffer | null = null;
    if (target.mark !== undefined) {
      if (!Number.isInteger(target.mark) || target.mark < 0 || target.mark > 0xffffffff) {
        throw new ProbeError('EINVAL', `mark ${target.mark} is not a 32-bit unsigned integer`);
      }
      mark = Buffer.alloc(4);
      mark.writeUInt32LE(target.mark);
    }
    return new Prepared({ ...target }, peer, source, mark);
  }

  probe(prepared: PreparedTcpProbe, done: (outcome: TcpProbeOutcome) => void, signal?: AbortSignal): TcpProbeHandle | null {
    const started = performance.now();
    if (!(prepared instanceof Prepared)) throw new ProbeError('EINVAL', 'probe() takes what prepare() returned');
    if (this.closed) return settledNow(done, failure('aborted', 'ECANCELED', 'the prober is closed', started));
    if (signal?.aborted) return settledNow(done, failure('aborted', 'ECANCELED', 'cancelled before it started', started));
    const c = this.c;
    const plan = prepared;
    const type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
    if (this.netns !== undefined) {
      // errno must be read inside: switching back makes calls of its own.
      const [nsFd, nsErrno] = inNetns(this.netns, () => {
        const fd = c.socket(plan.peer.family, type, 0);
        return [fd, fd < 0 ? c.errno() : 0] as const;
      });
      if (nsFd < 0) return settledNow(done, socketFailure(nsErrno, `socket: ${c.strerror(nsErrno)}`, started));
      return this.connect(nsFd, plan, started, done, signal);
    }
    const fd = c.socket(plan.peer.family, type, 0);
    if (fd < 0) return settledNow(done, this.callFailed('socket', -1, started));
    return this.connect(fd, plan, started, done, signal);
  }

  private connect(
    fd: number,
    plan: Prepared,
    started: number,
    done: (outcome: TcpProbeOutcome) => void,
    signal: AbortSignal | undefined,
  ): InFlight | null {
    const c = this.c;
    if (plan.mark !== null && c.setsockopt(fd, SOL_SOCKET, SO_MARK, plan.mark, 4) !== 0) {
      return settledNow(done, this.callFailed('setsockopt SO_MARK', fd, started));
    }
    if (plan.source !== null && c.bind(fd, plan.source.bytes, plan.source.bytes.length) !== 0) {
      return settledNow(done, this.callFailed('bind', fd, started));
    }
    if (c.connect(fd, plan.peer.bytes, plan.peer.bytes.length) === 0) {
      // Handshake already complete (it can be, on loopback).
      this.resetClose(fd);
      return settledNow(done, { ok: true, latencyMs: elapsed(started) });
    }
    const e = c.errno();
    if (e !== EINPROGRESS) {
      c.close(fd);
      return settledNow(done, socketFailure(e, this.c.strerror(e), started));
    }
    const p = new InFlight(this, plan, fd, started, done, signal);
    this.register(p);
    if (!this.watch(p)) return null;
    this.enqueueDeadline(p);
    signal?.addEventListener('abort', p, { once: true });
    this.inFlight += 1;
    if (!this.lookScheduled) {
      this.lookScheduled = true;
      setImmediate(this.look);
    }
    return p;
  }

  /**
   * After the probes started in one turn of the event loop, one non-blocking epoll_wait on this
   * thread: loopback and LAN handshakes are mostly done by then, and collecting them here saves
   * two thread hand-offs (worker wake-up, then the loop's) per batch, which on a crowded host
   * cost more than the probes. What is still pending goes to the worker's wait.
   */
  private readonly look = (): void => {
    this.lookScheduled = false;
    if (this.closed) return;
    for (let round = 0; round < 8; round++) {
      const n = this.c.epoll_wait(this.epfd, this.polled, MAX_EVENTS, 0);
      if (n <= 0) break;
      this.settleReady(this.polled, n);
      if (n < MAX_EVENTS) break;
    }
    this.expire(performance.now());
    this.wait();
  };

  private settleReady(events: Buffer, count: number): void {
    for (let i = 0; i < count; i++) {
      const at = i * EVENT_SIZE;
      const p = this.slots[events.readUInt32LE(at + 4)];
      if (p === undefined || p.gen !== events.readUInt32LE(at + 8) || p.settled) continue;
      // Writable without error or hang-up is a completed handshake: no SO_ERROR to ask (a call saved per check).
      if ((events.readUInt32LE(at) & (EPOLLERR | EPOLLHUP)) === 0) this.succeed(p);
      else this.finish(p);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.slots) if (p !== undefined && !p.settled) this.cancel(p, 'the prober was closed');
    // The worker may still sit in epoll_wait on this set: let it return before the fd goes.
    if (this.waiting) await new Promise<void>((resolve) => (this.waitDone = resolve));
    this.c.close(this.epfd);
  }

  cancel(handle: TcpProbeHandle, message = 'cancelled while connecting'): void {
    if (!(handle instanceof InFlight) || handle.prober !== this) throw new ProbeError('EINVAL', 'cancel() takes what probe() of this prober returned');
    const p = handle;
    if (p.settled) return;
    this.c.close(p.fd);
    this.settle(p, failure('aborted', 'ECANCELED', message, p.started));
  }

  private register(p: InFlight): void {
    let index = this.freeSlots.pop();
    if (index === undefined) {
      index = this.slots.length;
      if (index >= MAX_SLOTS) throw new ProbeError('ENOBUFS', `more than ${MAX_SLOTS} probes in flight`);
      this.slots.push(undefined);
    }
    this.generation = (this.generation + 1) >>> 0;
    p.index = index;
    p.gen = this.generation;
    this.slots[index] = p;
  }

  private release(p: InFlight): void {
    this.slots[p.index] = undefined;
    this.freeSlots.push(p.index);
  }

  /** Adds the socket to the epoll set; the event's data names the slot and its generation, so a stale event is ignored. */
  private watch(p: InFlight): boolean {
    const ev = this.event;
    ev.writeUInt32LE(EPOLLOUT, 0);
    ev.writeUInt32LE(p.index, 4);
    ev.writeUInt32LE(p.gen, 8);
    if (this.c.epoll_ctl(this.epfd, EPOLL_CTL_ADD, p.fd, ev) === 0) return true;
    this.release(p);
    p.settled = true;
    p.done(this.callFailed('epoll_ctl', p.fd, p.started));
    return false;
  }

  private enqueueDeadline(p: InFlight): void {
    const timeout = p.plan.target.timeoutMs;
    p.deadline = p.started + timeout;
    let q = this.queues.get(timeout);
    if (q === undefined) {
      q = { items: [], head: 0 };
      this.queues.set(timeout, q);
    }
    q.items.push(p);
  }

  private wait(): void {
    if (this.waiting || this.closed || this.inFlight === 0) return;
    this.waiting = true;
    const timeout = Math.max(0, Math.min(MAX_WAIT_MS, Math.ceil(this.earliestDeadline() - performance.now())));
    this.c.epoll_wait.async(this.epfd, this.events, MAX_EVENTS, timeout, this.woke);
  }

  private readonly woke = (err: unknown, n: number): void => {
    if (this.waitDone !== null) {
      this.waiting = false;
      const resolve = this.waitDone;
      this.waitDone = null;
      return resolve();
    }
    if (this.closed) {
      this.waiting = false;
      return;
    }
    // `waiting` stays set while the batch is handled: callbacks start new probes, and a new wait
    // must not let the worker overwrite the events being read.
    // err: koffi could not make the call; n < 0: EINTR. Either way the deadlines below still run.
    this.settleReady(this.events, err ? 0 : n);
    this.expire(performance.now());
    this.waiting = false;
    // A callback of this batch may have called close() meanwhile (TS cannot see that).
    const closing = this.waitDone as (() => void) | null;
    this.waitDone = null;
    // close() was called from a callback of this batch: its wait is over now.
    if (closing !== null) closing();
    else this.wait();
  };

  /** The socket is writable or in error: SO_ERROR says which. */
  private finish(p: InFlight): void {
    const c = this.c;
    this.intLen[0] = 4;
    this.intBuf.writeInt32LE(0);
    const soError = c.getsockopt(p.fd, SOL_SOCKET, SO_ERROR, this.intBuf, this.intLen) === 0 ? this.intBuf.readInt32LE(0) : c.errno();
    if (soError === 0) this.succeed(p);
    else {
      c.close(p.fd);
      this.settle(p, socketFailure(soError, c.strerror(soError), p.started));
    }
  }

  private succeed(p: InFlight): void {
    this.resetClose(p.fd);
    this.settle(p, { ok: true, latencyMs: elapsed(p.started) });
  }

  private expire(now: number): void {
    for (const [timeout, q] of this.queues) {
      const items = q.items;
      while (q.head < items.length) {
        const p = items[q.head] as InFlight;
        if (!p.settled && p.deadline > now) break;
        items[q.head] = undefined;
        q.head += 1;
        if (!p.settled) this.deadline(p);
      }
      if (q.head === items.length) this.queues.delete(timeout);
      else if (q.head > 1024 && q.head * 2 > items.length) {
        q.items = items.slice(q.head);
        q.head = 0;
      }
    }
  }

  /** At the deadline, one last look: a handshake that completed in time but whose event was not read yet still counts. */
  private deadline(p: InFlight): void {
    const fds = this.pollFd;
    fds.writeInt32LE(p.fd, 0);
    fds.writeInt16LE(POLLOUT, 4);
    fds.writeInt16LE(0, 6);
    if (this.c.poll(fds, 1, 0) === 1 && fds.readInt16LE(6) !== 0) return this.finish(p);
    this.c.close(p.fd);
    this.settle(p, failure('deadline', 'ETIMEDOUT', `no answer within ${p.plan.target.timeoutMs} ms while connecting`, p.started));
  }

  private earliestDeadline(): number {
    let earliest = Infinity;
    for (const q of this.queues.values()) {
      const p = q.items[q.head];
      if (p !== undefined && p.deadline < earliest) earliest = p.deadline;
    }
    return earliest;
  }

  private settle(p: InFlight, outcome: TcpProbeOutcome): void {
    p.settled = true;
    this.release(p);
    this.inFlight -= 1;
    p.signal?.removeEventListener('abort', p);
    p.done(outcome);
  }

  private resetClose(fd: number): void {
    this.c.setsockopt(fd, SOL_SOCKET, SO_LINGER, this.linger, 8);
    this.c.close(fd);
  }

  private callFailed(call: string, fd: number, started: number): TcpProbeOutcome {
    const e = this.c.errno();
    if (fd >= 0) this.c.close(fd);
    return socketFailure(e, `${call}: ${this.c.strerror(e)}`, started);
  }
}

function settledNow(done: (outcome: TcpProbeOutcome) => void, outcome: TcpProbeOutcome): null {
  done(outcome);
  return null;
}

function elapsed(started: number): number {
  return Math.max(0, Math.round((performance.now() - started) * 1000) / 1000);
}

function failure(kind: TcpProbeFailure, errno: string, message: string, started: number): TcpProbeOutcome {
  return { ok: false, failure: kind, errno, message, latencyMs: elapsed(started) };
}

function socketFailure(errno: number, message: string, started: number): TcpProbeOutcome {
  return failure('socket', errnoName(errno), message, started);
}
