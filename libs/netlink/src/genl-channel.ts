import { constants as osConstants } from 'node:os';
import type { NetlinkMessage } from 'netlink';
import { Flags, FlagsGet, MessageType, Protocol, RawNetlinkSocket, parseMessages } from 'netlink';
import { inNetns } from './netns.js';

// One generic-netlink socket with our own request bookkeeping, on the `netlink` package's raw
// socket. Its higher-level NetlinkSocket sends one message per sendmsg and waits for each ACK;
// loading 10,000 destinations that way costs 10,000 round trips. Here many requests go in one
// sendmsg (the kernel's netlink_rcv_skb walks every message of the buffer in order), only the
// last one asks for an ACK, and errors come back for the others by sequence number. Several such
// batches may be in flight; a small window keeps the error replies inside the receive buffer.

export class NetlinkTransportError extends Error {
  override name = 'NetlinkTransportError';
}

/** A request the kernel rejected: errno as a number and its name (EEXIST, ENOENT, ...). */
export class NetlinkRequestError extends Error {
  override name = 'NetlinkRequestError';
  constructor(
    readonly errno: number,
    readonly code: string,
  ) {
    super(`kernel rejected the request: ${code}`);
  }
}

/** The errno name the kernel sources use (Linux has ENOTSUP == EOPNOTSUPP; the kernel says the latter). */
export function errnoName(errno: number): string {
  if (errno === osConstants.errno.EOPNOTSUPP) return 'EOPNOTSUPP';
  return Object.entries(osConstants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
}

export type BatchResult = { ok: true } | { ok: false; error: NetlinkRequestError };

interface PendingBatch {
  first: number;
  last: number;
  results: Map<number, NetlinkRequestError>;
  resolve: (r: Map<number, NetlinkRequestError>) => void;
}

interface PendingRequest {
  replies: Buffer[];
  dump: boolean;
  resolve: (replies: Buffer[]) => void;
  reject: (e: Error) => void;
}

export interface GenlChannelOptions {
  /** Named network namespace (/run/netns/<name>) to open the socket in; default: the caller's. */
  netns?: string;
  /** Messages per sendmsg (default 64). */
  batchSize?: number;
  /** Bytes per sendmsg before a batch is cut (default 32 KiB). */
  batchBytes?: number;
  /** Batches in flight (default 4). */
  window?: number;
}

const HEADER = 16;

export class GenlChannel {
  private readonly sock: RawNetlinkSocket;
  private readonly port: number;
  private seq = 1;
  private readonly batches: PendingBatch[] = [];
  private readonly requests = new Map<number, PendingRequest>();
  private closed = false;
  private failure: Error | null = null;
  readonly batchSize: number;
  readonly batchBytes: number;
  readonly window: number;

  constructor(opts: GenlChannelOptions = {}) {
    this.batchSize = opts.batchSize ?? 64;
    this.batchBytes = opts.batchBytes ?? 32 * 1024;
    this.window = opts.window ?? 4;
    const open = (): RawNetlinkSocket => new RawNetlinkSocket(Protocol.GENERIC, { recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    this.sock = opts.netns ? inNetns(opts.netns, open) : open();
    this.port = this.sock.address().port;
    this.sock.unref();
    this.sock.on('message', (buf) => this.receive(buf));
    this.sock.on('truncatedMessage', () => this.fail(new NetlinkTransportError('a netlink reply was truncated')));
    this.sock.on('error', (err) =>
      this.fail(new NetlinkTransportError(`netlink socket error: ${err.code ?? err.message} (replies were lost; the kernel state is unknown)`, { cause: err })),
    );
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    return s;
  }

  private header(len: number, type: number, flags: number, seq: number): Buffer {
    const h = Buffer.alloc(HEADER);
    h.writeUInt32LE(len, 0);
    h.writeUInt16LE(type, 4);
    h.writeUInt16LE(flags, 6);
    h.writeUInt32LE(seq, 8);
    h.writeUInt32LE(this.port, 12);
    return h;
  }

  private busy(): void {
    this.sock.ref();
  }
  private idleCheck(): void {
    if (this.batches.length === 0 && this.requests.size === 0 && !this.closed) this.sock.unref();
  }

  private send(parts: Buffer[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sock.send(parts, {}, (err) => (err ? reject(new NetlinkTransportError(`sendmsg failed: ${err.code ?? err.message}`, { cause: err })) : resolve()));
    });
  }

  /** One request; resolves with the payloads of its replies (several for a dump). */
  async request(family: number, payload: Buffer, opts: { dump?: boolean; ack?: boolean } = {}): Promise<Buffer[]> {
    this.check();
    const seq = this.nextSeq();
    let flags = Flags.REQUEST;
    if (opts.dump) flags |= FlagsGet.DUMP;
    if (opts.ack) flags |= Flags.ACK;
    const promise = new Promise<Buffer[]>((resolve, reject) => {
      this.requests.set(seq, { replies: [], dump: opts.dump === true, resolve, reject });
    });
    // The reply may land before send() settles; mark the promise handled so that is not an unhandled rejection.
    promise.catch(() => undefined);
    this.busy();
    try {
      await this.send([this.header(HEADER + payload.length, family, flags, seq), payload]);
    } catch (err) {
      this.requests.delete(seq);
      this.idleCheck();
      throw err;
    }
    return promise;
  }

  /**
   * Sends many write requests, `batchSize` per sendmsg with `window` sendmsgs outstanding, and
   * reports each one's outcome in order. The kernel handles them strictly in order.
   */
  async batch(family: number, payloads: Buffer[]): Promise<BatchResult[]> {
    this.check();
    const results: BatchResult[] = new Array<BatchResult>(payloads.length);
    if (this.seq > 0x7fff0000) this.seq = 1; // keep every batch's sequence numbers one ascending range
    const inflight = new Set<Promise<void>>();
    let i = 0;
    while (i < payloads.length) {
      const start = i;
      let bytes = 0;
      const parts: Buffer[] = [];
      const seqs: number[] = [];
      while (i < payloads.length && i - start < this.batchSize) {
        const p = payloads[i] as Buffer;
        const len = HEADER + p.length;
        if (i > start && bytes + len > this.batchBytes) break;
        const seq = this.nextSeq();
        const last = i + 1 === payloads.length || i + 1 - start === this.batchSize;
        parts.push(this.header(len, family, Flags.REQUEST, seq), p);
        seqs.push(seq);
        bytes += len;
        i += 1;
        if (last) break;
      }
      // Ask for an ACK only on the batch's last message: its reply proves every earlier one was handled.
      const lastHeader = parts[parts.length - 2] as Buffer;
      lastHeader.writeUInt16LE(Flags.REQUEST | Flags.ACK, 6);
      const first = seqs[0] as number;
      const lastSeq = seqs[seqs.length - 1] as number;
      const done = new Promise<Map<number, NetlinkRequestError>>((resolve) => {
        this.batches.push({ first, last: lastSeq, results: new Map(), resolve });
      }).then((errors) => {
        seqs.forEach((s, k) => {
          const e = errors.get(s);
          results[start + k] = e ? { ok: false, error: e } : { ok: true };
        });
      });
      this.busy();
      const sent = this.send(parts).then(
        () => done,
        (err: Error) => {
          this.fail(err);
          return done;
        },
      );
      inflight.add(sent);
      void sent.finally(() => inflight.delete(sent));
      if (inflight.size >= this.window) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    this.check();
    return results;
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new NetlinkTransportError('netlink channel is closed');
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const r of this.requests.values()) r.reject(err);
    this.requests.clear();
    // Batches resolve with what is known; batch() then throws the failure.
    for (const b of this.batches.splice(0)) b.resolve(b.results);
    this.idleCheck();
  }

  private receive(buf: Buffer): void {
    let msgs: NetlinkMessage[];
    try {
      msgs = parseMessages(buf);
    } catch (err) {
      this.fail(new NetlinkTransportError('unparseable netlink reply', { cause: err }));
      return;
    }
    for (const m of msgs) this.handle(m);
    this.idleCheck();
  }

  private handle(m: NetlinkMessage): void {
    const req = this.requests.get(m.seq);
    if (req) {
      if (m.type === MessageType.ERROR) {
        const errno = -m.data.readInt32LE(0);
        this.requests.delete(m.seq);
        if (errno === 0) req.resolve(req.replies);
        else req.reject(new NetlinkRequestError(errno, errnoName(errno)));
      } else if (m.type === MessageType.DONE) {
        this.requests.delete(m.seq);
        req.resolve(req.replies);
      } else {
        req.replies.push(m.data);
        if (!req.dump) {
          this.requests.delete(m.seq);
          req.resolve(req.replies);
        }
      }
      return;
    }
    if (m.type !== MessageType.ERROR) return; // not ours (e.g. a late reply after a timeout)
    const errno = -m.data.readInt32LE(0);
    const idx = this.batches.findIndex((b) => m.seq >= b.first && m.seq <= b.last);
    if (idx === -1) return;
    const b = this.batches[idx] as PendingBatch;
    if (errno !== 0) b.results.set(m.seq, new NetlinkRequestError(errno, errnoName(errno)));
    if (m.seq === b.last) {
      this.batches.splice(idx, 1);
      b.resolve(b.results);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new NetlinkTransportError('netlink channel closed'));
    this.sock.close();
  }
}
