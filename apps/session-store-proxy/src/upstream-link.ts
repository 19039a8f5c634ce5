// One connection to a Redis server on node:net: writes encoded commands (all those sent in one event-loop turn
// leave in one write) and hands each reply frame, as bytes, to the request it answers, in order.
import { type Socket, createConnection } from 'node:net';
import { joinViews } from './encoder.js';
import { ReplyScanner, RespReplyError } from './reply-scanner.js';

/** A unit of work on a link: one or more encoded commands and the replies they produce. */
export interface UpstreamRequest {
  /** Encoded commands; kept unchanged so that a request lost with its link can be sent again. */
  readonly bytes: Buffer;
  /** Reply frames the commands produce. */
  readonly replies: number;
  /** Frames received so far; the link counts them (reset it before sending again). */
  got: number;
  /** Date.now() when handed to a link. */
  sentAt: number;
  /** Called for each reply frame, `got` already counting it; buf[start, end) is never written again. */
  onFrame(buf: Buffer, start: number, end: number): void;
  /** The link was lost before all replies came. */
  onLost(reason: string): void;
}

export interface LinkEvents {
  ready(link: UpstreamLink): void;
  /** The link is closed; `lost` are the requests sent on it that did not get all their replies, in order. */
  closed(link: UpstreamLink, reason: string, lost: UpstreamRequest[]): void;
}

export interface LinkOptions {
  host: string;
  port: number;
  /** Commands sent first (AUTH, SELECT, ROLE); `check` judges their replies. */
  handshake: Buffer;
  handshakeReplies: number;
  /** Returns why the handshake failed, or null; `frame` is the reply to handshake command `index`. */
  check(index: number, frame: Buffer): string | null;
  connectTimeoutMs: number;
}

/** Errors after which the server is not (or no longer) a usable master: the link closes and its work is retried. */
const FATAL_ERRORS = ['-READONLY', '-LOADING', '-MASTERDOWN'];

export class UpstreamLink {
  state: 'connecting' | 'ready' | 'closed' = 'connecting';
  private readonly socket: Socket;
  private readonly scanner = new ReplyScanner();
  private readonly inflight: UpstreamRequest[] = [];
  private head = 0;
  private out: Buffer[] = [];
  private flushScheduled = false;
  private retiring = false;
  private handshakeLeft: number;
  private connectTimer: NodeJS.Timeout | null;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly flushNow = () => this.flush();

  constructor(
    readonly opts: LinkOptions,
    private readonly events: LinkEvents,
  ) {
    this.handshakeLeft = opts.handshakeReplies;
    this.socket = createConnection({ host: opts.host, port: opts.port, noDelay: true });
    this.socket.on('data', this.onData);
    this.socket.on('error', (e: Error) => this.close(`${opts.host}:${opts.port}: ${e.message}`));
    this.socket.on('close', () => this.close(`${opts.host}:${opts.port}: connection closed`));
    this.connectTimer = setTimeout(() => this.close(`${opts.host}:${opts.port}: no connection within ${opts.connectTimeoutMs} ms`), opts.connectTimeoutMs);
    this.connectTimer.unref();
    this.socket.once('connect', () => {
      if (this.connectTimer) clearTimeout(this.connectTimer);
      this.connectTimer = null;
    });
    if (opts.handshakeReplies === 0) {
      this.state = 'ready';
      queueMicrotask(() => this.state === 'ready' && this.events.ready(this));
    } else {
      this.socket.write(opts.handshake);
    }
  }

  /** Requests sent and not fully answered. */
  get pending(): number {
    return this.inflight.length - this.head;
  }

  /** When the oldest unanswered request was sent, or null. */
  get oldestSentAt(): number | null {
    return this.head < this.inflight.length ? (this.inflight[this.head] as UpstreamRequest).sentAt : null;
  }

  /** Queues a request; it is written at the end of this event-loop turn, with the others sent in it. */
  send(req: UpstreamRequest): void {
    if (this.state === 'closed') {
      req.onLost('upstream connection closed');
      return;
    }
    req.got = 0;
    req.sentAt = Date.now();
    this.inflight.push(req);
    this.out.push(req.bytes);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  }

  /** Closes once every request sent so far is answered (a transaction's link after EXEC/DISCARD/UNWATCH). */
  retire(): void {
    this.retiring = true;
    if (this.pending === 0) this.close('retired');
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.socket.destroy();
    const lost = this.inflight.slice(this.head);
    this.inflight.length = 0;
    this.head = 0;
    this.out = [];
    this.events.closed(this, reason, lost);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.state === 'closed' || this.out.length === 0) return;
    const out = this.out;
    this.out = [];
    this.socket.write(out.length === 1 ? (out[0] as Buffer) : joinViews(out));
  }

  private receive(chunk: Buffer): void {
    try {
      this.scanner.feed(chunk, this.frame);
    } catch (e) {
      if (!(e instanceof RespReplyError)) throw e;
      this.close(`${this.opts.host}:${this.opts.port}: ${e.message}`);
    }
  }

  private readonly frame = (buf: Buffer, start: number, end: number): void => {
    if (this.state === 'closed') return;
    const type = buf[start];
    if (type === 0x3e /* '>' */) return; // an out-of-band push (RESP3), not a reply
    if (type === 0x2d /* '-' */) {
      const text = buf.toString('latin1', start, Math.min(end, start + 12));
      const fatal = FATAL_ERRORS.find((f) => text.startsWith(f));
      if (fatal) {
        this.close(`${this.opts.host}:${this.opts.port} answered ${buf.toString('latin1', start + 1, end - 2).slice(0, 200)}`);
        return;
      }
    }
    if (this.handshakeLeft > 0) {
      const index = this.opts.handshakeReplies - this.handshakeLeft--;
      const failure = this.opts.check(index, buf.subarray(start, end));
      if (failure !== null) return this.close(`${this.opts.host}:${this.opts.port}: ${failure}`);
      if (this.handshakeLeft === 0) {
        this.state = 'ready';
        this.events.ready(this);
      }
      return;
    }
    const req = this.inflight[this.head];
    if (req === undefined) {
      this.close(`${this.opts.host}:${this.opts.port}: a reply that answers no request`);
      return;
    }
    req.got++;
    if (req.got >= req.replies) {
      this.inflight[this.head++] = undefined as unknown as UpstreamRequest; // let it be collected
      if (this.head === this.inflight.length) {
        this.inflight.length = 0;
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.inflight.length) {
        this.inflight.splice(0, this.head);
        this.head = 0;
      }
    }
    req.onFrame(buf, start, end);
    if (this.retiring && this.pending === 0) this.close('retired');
  };
}
