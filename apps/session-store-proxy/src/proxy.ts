// The RESP server: one ClientSession per connection, replies in request order, bounded memory per client.
import { timingSafeEqual } from 'node:crypto';
import { type Server, type Socket, createServer } from 'node:net';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CONNECTION_COMMANDS, CommandError, FORWARDED, type CommandInfo } from './commands.js';
import { encodeCommands, joinViews } from './encoder.js';
import { arrayElements, integerReply, setnxReply, toResp3 } from './reply-frames.js';
import { OK, type ParsedCommand, type Protocol, type Reply, RequestParser, RespProtocolError, encode, err, type ParserLimits } from './resp.js';
import { type Upstream, rewrite } from './rewrite.js';
import { type LostReason, type PoolRequest, type UpstreamPool } from './upstream.js';
import type { LinkEvents, UpstreamLink } from './upstream-link.js';

export interface ProxyOptions {
  pool: UpstreamPool;
  allowedCommands: readonly string[];
  keyPrefix: string;
  maxTtlSeconds: number | null;
  /** Password clients AUTH with; null = no client authentication. */
  clientPassword: string | null;
  /** Wait for one replica (WAIT 1 <durableTimeoutMs>) after each write before answering it. */
  durable: boolean;
  durableTimeoutMs: number;
  limits: ParserLimits;
  /** A client with a half-received command for this long is closed (slowloris). */
  partialTimeoutMs: number;
  /** A client silent for this long is closed; 0 = never. */
  idleTimeoutMs: number;
  /** Replies waiting for a slow reader before the proxy stops reading that client's requests. */
  maxPendingReplies: number;
  maxClients: number;
  registry: Registry;
  logger: { info(o: object, m: string): void; warn(o: object, m: string): void; debug(o: object, m: string): void };
  clock?: () => number;
}

interface Metrics {
  commands: Counter<'command'>;
  /** Per-command counts since the last scrape. */
  counts: Map<string, { n: number }>;
  errors: Counter<'kind'>;
  latency: Histogram;
  clients: Gauge;
  connections: Counter;
}

function metrics(registry: Registry, pool: UpstreamPool, commandCounts: Map<string, { n: number }>): Metrics {
  new Gauge({
    name: 'fulcrum_session_upstream_failovers',
    help: 'Times the upstream master changed',
    registers: [registry],
    collect() {
      this.set(pool.failovers);
    },
  });
  new Gauge({
    name: 'fulcrum_session_upstream_up',
    help: '1 while connected to the upstream master',
    registers: [registry],
    collect() {
      this.set(pool.connected ? 1 : 0);
    },
  });
  return {
    counts: commandCounts,
    commands: new Counter({
      name: 'fulcrum_session_commands_total',
      help: 'Client commands by name',
      labelNames: ['command'],
      registers: [registry],
      // Counted in plain objects on the hot path (a labelled inc costs a label hash per command), copied at scrape.
      collect() {
        for (const [command, c] of commandCounts) {
          if (c.n > 0) this.inc({ command }, c.n);
          c.n = 0;
        }
      },
    }),
    errors: new Counter({ name: 'fulcrum_session_errors_total', help: 'Error replies by kind (protocol, refused, upstream, retryable, durable)', labelNames: ['kind'], registers: [registry] }),
    latency: new Histogram({
      name: 'fulcrum_session_command_seconds',
      help: 'Time from a forwarded command read to its reply',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2],
      registers: [registry],
    }),
    clients: new Gauge({ name: 'fulcrum_session_clients', help: 'Connected clients', registers: [registry] }),
    connections: new Counter({ name: 'fulcrum_session_connections_total', help: 'Client connections accepted', registers: [registry] }),
  };
}

export class SessionProxy {
  private readonly servers: Server[] = [];
  readonly sessions = new Set<ClientSession>();
  readonly metrics: Metrics;
  readonly allowed: Set<string>;
  readonly startedAt = Date.now();
  totalCommands = 0;

  constructor(readonly opts: ProxyOptions) {
    this.metrics = metrics(opts.registry, opts.pool, new Map());
    this.allowed = new Set(opts.allowedCommands.map((c) => c.toUpperCase()));
  }

  /** Listens on a TCP port (0 = any free one) or a unix socket path; resolves with the bound port or path. */
  listen(where: { port: number; host: string } | { path: string }): Promise<string | number> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    server.maxConnections = this.opts.maxClients;
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(where, () => {
        const a = server.address();
        resolve(typeof a === 'string' || a === null ? String(a) : a.port);
      });
    });
  }

  async close(): Promise<void> {
    const closing = this.servers.map((s) => new Promise((r) => s.close(r)));
    for (const c of this.sessions) c.close();
    await Promise.all(closing);
  }

  private accept(socket: Socket): void {
    const session = new ClientSession(this, socket);
    this.sessions.add(session);
    this.metrics.clients.inc();
    this.metrics.connections.inc();
    socket.once('close', () => {
      this.sessions.delete(session);
      this.metrics.clients.dec();
      session.dispose();
    });
  }

  /** INFO / PROXY STATUS: about the proxy, never the upstream server. */
  statusText(): string {
    const m = this.opts.pool.master;
    const r = this.opts.pool.replication;
    return [
      '# Proxy',
      'proxy:fulcrum-session-store-proxy',
      `uptime_in_seconds:${Math.floor((Date.now() - this.startedAt) / 1000)}`,
      `connected_clients:${this.sessions.size}`,
      `total_commands_processed:${this.totalCommands}`,
      `upstream_state:${this.opts.pool.connected ? 'up' : 'down'}`,
      `upstream_mode:${this.opts.pool.mode}`,
      `upstream_master:${m ? `${m.address}:${m.port}` : ''}`,
      // Replication mode: the cluster followed and the node its monitor names (empty while none is known).
      ...(r ? [`upstream_replication_cluster:${r.clusterId}`, `upstream_master_node:${r.node ?? ''}`] : []),
      `upstream_failovers:${this.opts.pool.failovers}`,
      `upstream_last_error:${(this.opts.pool.lastError ?? '').replace(/\s+/g, ' ')}`,
      `durable:${this.opts.durable ? 1 : 0}`,
      `key_prefix:${this.opts.keyPrefix}`,
      `max_ttl_seconds:${this.opts.maxTtlSeconds ?? ''}`,
      '',
    ].join('\r\n');
  }
}

interface Slot {
  reply: Buffer | null;
  quit?: boolean;
}

interface Queued {
  name: string;
  up: Upstream;
}

const RETRYABLE = 'TRYAGAIN upstream master unavailable or changing, retry';

/** Command names as bytes, encoded once. */
const NAMES = new Map<string, Buffer>([...Object.keys(FORWARDED), 'MULTI', 'EXEC', 'WATCH', 'WAIT'].map((n) => [n, Buffer.from(n, 'latin1')]));
const nameBytes = (n: string) => NAMES.get(n) ?? Buffer.from(n, 'latin1');

/** How an upstream reply becomes the client's. */
const enum Shape {
  AsIs,
  /** SETNX sent as SET NX: +OK / null -> 1 / 0. */
  Setnx,
  /** A field/value list: a map for RESP3 clients. */
  Map,
}

/**
 * One forwarded command: its bytes (the client's command, possibly followed by the proxy's EXPIRE ... NX and a
 * WAIT in durable mode), and the client's reply slot it fills. Sent on the shared link it may be sent once more
 * after a lost link when the command is idempotent.
 */
class Forwarded implements PoolRequest, Slot {
  reply: Buffer | null = null;
  got = 0;
  sentAt = 0;
  private clientFrame: Buffer | null = null;
  private attempts = 0;

  constructor(
    private readonly session: ClientSession,
    readonly bytes: Buffer,
    readonly replies: number,
    private readonly shape: Shape,
    private readonly idempotent: boolean,
    private readonly durable: boolean,
    /** Sent on the shared link (a dedicated one has WATCH state a second attempt would not have). */
    private readonly shared: boolean,
    private readonly started: number,
  ) {}

  onFrame(buf: Buffer, start: number, end: number): void {
    if (this.got === 1) this.clientFrame = buf.subarray(start, end);
    if (this.got < this.replies) return; // the proxy's EXPIRE NX, or the WAIT to come
    const frame = this.clientFrame as Buffer;
    this.clientFrame = null;
    if (this.durable && frame[0] !== 0x2d) {
      const acked = integerReply(buf, start, end);
      if (acked === null || acked < 1) {
        return this.session.failed(this, 'durable', `NOREPLICAS the write was applied on the master but no replica confirmed it within ${this.session.durableTimeoutMs} ms`);
      }
    }
    this.session.forwarded(this, frame, this.shape, this.started);
  }

  onLost(message: string): void {
    this.lost({ message, retryable: true });
  }

  lost(reason: LostReason): void {
    if (reason.retryable && this.shared && this.idempotent && this.attempts++ === 0) {
      this.clientFrame = null;
      return this.session.resend(this);
    }
    if (this.durable && this.got > 0) {
      return this.session.failed(this, 'retryable', 'TRYAGAIN the write may be applied but the master went away before a replica confirmed it; retry');
    }
    // Not retryable by the proxy (it waited its whole timeout, or is stopping): the client hears why.
    this.session.failed(this, 'retryable', reason.retryable ? RETRYABLE : `TRYAGAIN ${reason.message.replace(/\s+/g, ' ').slice(0, 400)}; retry`);
  }
}

/** MULTI, the queued commands, EXEC (and WAIT) on a dedicated link; only EXEC's reply is the client's. */
class Transaction implements PoolRequest, Slot {
  reply: Buffer | null = null;
  got = 0;
  sentAt = 0;
  private exec: Buffer | null = null;

  constructor(
    private readonly session: ClientSession,
    readonly bytes: Buffer,
    readonly replies: number,
    private readonly execIndex: number,
    private readonly queued: Queued[],
    private readonly durable: boolean,
    private readonly done: () => void,
  ) {}

  onFrame(buf: Buffer, start: number, end: number): void {
    if (this.got === this.execIndex) this.exec = buf.subarray(start, end);
    if (this.got < this.replies) return;
    this.done();
    const exec = this.exec as Buffer;
    if (this.durable && exec[0] === 0x2a && exec[1] !== 0x2d) {
      const acked = integerReply(buf, start, end);
      if (acked === null || acked < 1) {
        return this.session.failed(this, 'durable', `NOREPLICAS the transaction was applied on the master but no replica confirmed it within ${this.session.durableTimeoutMs} ms`);
      }
    }
    this.session.transactionDone(this, exec, this.queued);
  }

  onLost(): void {
    this.lost();
  }

  lost(): void {
    this.done();
    this.session.failed(this, 'retryable', RETRYABLE);
  }
}

const CLOSE_TX: LinkEvents = {
  ready: () => undefined,
  closed: (_, reason, lost) => {
    for (const r of lost) r.onLost(reason);
  },
};

class ClientSession {
  private readonly parser: RequestParser;
  private readonly slots: Slot[] = [];
  private backlog: ParsedCommand[] = [];
  private proto: Protocol = 2;
  private authed: boolean;
  private name: Buffer | null = null;
  private db = 0;
  private prefix: Buffer;
  private multi: Queued[] | null = null;
  private multiFailed = false;
  /** The dedicated link of a WATCH; the client's commands go there until EXEC/DISCARD/UNWATCH. */
  private tx: UpstreamLink | null = null;
  private closed = false;
  private paused = false;
  private partialTimer: NodeJS.Timeout | null = null;
  private flushScheduled = false;
  readonly durableTimeoutMs: number;

  constructor(
    private readonly proxy: SessionProxy,
    private readonly socket: Socket,
  ) {
    const o = proxy.opts;
    this.parser = new RequestParser(o.limits);
    this.authed = o.clientPassword === null;
    this.prefix = Buffer.from(o.keyPrefix, 'utf8');
    this.durableTimeoutMs = o.durableTimeoutMs;
    if (o.idleTimeoutMs > 0) {
      socket.setTimeout(o.idleTimeoutMs, () => this.fail('idle timeout'));
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('drain', () => this.maybeResume());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }

  dispose(): void {
    this.closed = true;
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.tx?.close('client gone');
    this.tx = null;
  }

  /** Sends an error (out of order: the connection ends here) and closes: protocol errors, slowloris. */
  private fail(message: string): void {
    if (this.closed) return;
    this.proxy.metrics.errors.inc({ kind: 'protocol' });
    this.proxy.opts.logger.debug({ remote: this.socket.remoteAddress, message }, 'client closed');
    this.closed = true;
    this.socket.end(encode(err(`ERR Protocol error: ${message}`), this.proto), () => this.socket.destroy());
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let cmds: ParsedCommand[];
    try {
      cmds = this.parser.feed(chunk);
    } catch (e) {
      if (e instanceof RespProtocolError) return this.fail(e.message);
      throw e;
    }
    if (this.backlog.length === 0) this.backlog = cmds;
    else for (const c of cmds) this.backlog.push(c);
    this.drainBacklog();
    this.armPartialTimer();
  }

  /**
   * Dispatches parsed commands while fewer than maxPendingReplies are unanswered. One read can hold thousands of
   * small commands; the rest wait here (at most one read's worth) with the socket paused.
   */
  private drainBacklog(): void {
    const max = this.proxy.opts.maxPendingReplies;
    const backlog = this.backlog;
    let i = 0;
    while (i < backlog.length && this.slots.length < max && !this.closed) this.dispatch(backlog[i++] as ParsedCommand);
    if (i === backlog.length) this.backlog = [];
    else backlog.splice(0, i);
    if (this.backlog.length > 0 || this.slots.length >= max) this.pause();
  }

  private armPartialTimer(): void {
    // A client the proxy stopped reading is not slow: its half command waits on us.
    if (this.parser.partial && !this.paused) {
      this.partialTimer ??= setTimeout(() => this.fail('incomplete command for too long'), this.proxy.opts.partialTimeoutMs);
    } else if (this.partialTimer) {
      clearTimeout(this.partialTimer);
      this.partialTimer = null;
    }
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
      this.armPartialTimer();
    }
  }

  private maybeResume(): void {
    if (!this.paused || this.closed || this.socket.writableLength >= 1 << 20) return;
    if (this.backlog.length > 0) {
      this.paused = false; // drainBacklog pauses again when it cannot finish
      this.drainBacklog();
      if (this.paused) return;
      this.paused = true;
    }
    if (this.slots.length < this.proxy.opts.maxPendingReplies / 2) {
      this.paused = false;
      this.socket.resume();
      this.armPartialTimer();
    }
  }

  // ---- replies in order ----

  private slot(): Slot {
    const s: Slot = { reply: null };
    this.slots.push(s);
    return s;
  }

  private answer(s: Slot, r: Reply): void {
    this.answerBytes(s, encode(r, this.proto));
  }

  private answerBytes(s: Slot, bytes: Buffer): void {
    s.reply = bytes;
    if (this.slots[0] === s && !this.flushScheduled) {
      this.flushScheduled = true;
      // One write for all replies that complete in this tick (pipelined clients get them in one segment), and
      // one microtask for all clients answered by one upstream read.
      toFlush.push(this);
      if (toFlush.length === 1) queueMicrotask(flushAll);
    }
  }

  flush(): void {
    this.flushScheduled = false;
    this.flushReplies();
  }

  /** A forwarded command's reply frame, as Redis sent it (RESP2). */
  forwarded(s: Slot, frame: Buffer, shape: Shape, started: number): void {
    const m = this.proxy.metrics;
    if (frame[0] === 0x2d) m.errors.inc({ kind: 'upstream' });
    if (shape === Shape.Setnx) frame = setnxReply(frame);
    else if (this.proto === 3) frame = toResp3(frame, shape === Shape.Map);
    m.latency.observe((performance.now() - started) / 1000);
    this.answerBytes(s, frame);
  }

  failed(s: Slot, kind: 'retryable' | 'durable', message: string): void {
    this.proxy.metrics.errors.inc({ kind });
    this.answer(s, err(message));
  }

  resend(req: Forwarded): void {
    this.proxy.opts.pool.send(req);
  }

  private flushReplies(): void {
    if (this.closed) return;
    const slots = this.slots;
    let n = 0;
    let quit = false;
    while (n < slots.length && (slots[n] as Slot).reply !== null) {
      if ((slots[n++] as Slot).quit) {
        quit = true;
        break;
      }
    }
    if (n === 0) return;
    let data: Buffer;
    if (n === 1) data = (slots.shift() as Slot).reply as Buffer;
    else {
      data = joinViews(slots.splice(0, n).map((s) => s.reply as Buffer));
    }
    if (quit) {
      this.closed = true;
      this.socket.end(data);
      return;
    }
    const ok = this.socket.write(data);
    if (!ok) this.pause();
    else if (this.paused) this.maybeResume();
  }

  private reply(r: Reply, quit = false): void {
    const s = this.slot();
    if (quit) s.quit = true;
    this.answer(s, r);
  }

  // ---- commands ----

  private dispatch(argv: ParsedCommand): void {
    const name = commandName(argv[0] as Buffer);
    this.proxy.totalCommands++;
    const info = FORWARDED[name];
    const isConnection = info === undefined && CONNECTION_COMMANDS.has(name);
    const label = info !== undefined || isConnection ? name : 'unknown';
    const counts = this.proxy.metrics.counts;
    const count = counts.get(label);
    if (count === undefined) counts.set(label, { n: 1 });
    else count.n++;
    if (!this.authed && name !== 'AUTH' && name !== 'HELLO' && name !== 'QUIT') {
      return this.refuse('NOAUTH Authentication required.');
    }
    const args = argv.slice(1);
    if (isConnection) return this.connectionCommand(name, args);
    if (info === undefined || !this.proxy.allowed.has(name)) {
      if (this.multi) this.multiFailed = true;
      const shown = name.length > 40 ? `${name.slice(0, 40)}...` : name;
      return this.refuse(`ERR command '${shown}' is not allowed through the session-store proxy`);
    }
    let up: Upstream;
    try {
      up = rewrite(name, info, args, { prefix: this.prefix, maxTtlSeconds: this.proxy.opts.maxTtlSeconds, nowMs: Date.now() });
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      if (this.multi) this.multiFailed = true;
      return this.refuse(`ERR ${e.message}`);
    }
    if (this.multi) {
      this.multi.push({ name, up });
      return this.reply({ status: 'QUEUED' });
    }
    this.forward(info, up, unchanged(up, name, args) ? argv.raw : undefined);
  }

  private refuse(message: string): void {
    this.proxy.metrics.errors.inc({ kind: 'refused' });
    this.reply(err(message));
  }

  /** `raw`: the client's own bytes for the command, when the rewrite left it as it was. */
  private forward(info: CommandInfo, up: Upstream, raw: Buffer | undefined): void {
    const o = this.proxy.opts;
    const durable = info.write && o.durable;
    const shape = up.setnx ? Shape.Setnx : info.mapReply ? Shape.Map : Shape.AsIs;
    const tx = this.tx;
    let bytes: Buffer;
    let replies = 1;
    if (raw !== undefined && !durable) {
      // The client's bytes as they came: no encoding, and a pipelined batch stays one contiguous view.
      bytes = raw;
    } else {
      const cmds: Buffer[][] = [[nameBytes(up.name), ...up.args]];
      if (up.after) cmds.push([nameBytes(up.after.name), ...up.after.args]);
      if (durable) cmds.push(waitCommand(o.durableTimeoutMs));
      bytes = encodeCommands(cmds);
      replies = cmds.length;
    }
    const req = new Forwarded(this, bytes, replies, shape, info.idempotent, durable, tx === null, performance.now());
    this.slots.push(req);
    if (tx) tx.send(req);
    else o.pool.send(req);
  }

  private connectionCommand(name: string, args: Buffer[]): void {
    const str = (i: number) => args[i]?.toString('utf8') ?? '';
    const inTx = this.multi !== null;
    if (inTx && !['EXEC', 'DISCARD', 'MULTI', 'WATCH', 'QUIT', 'PING', 'ECHO'].includes(name)) {
      this.multiFailed = true;
      return this.refuse(`ERR ${name} is not allowed inside MULTI through the session-store proxy`);
    }
    switch (name) {
      case 'PING':
        if (args.length > 1) return this.refuse("ERR wrong number of arguments for 'ping' command");
        return this.reply(args[0] ?? { status: 'PONG' });
      case 'ECHO':
        if (args.length !== 1) return this.refuse("ERR wrong number of arguments for 'echo' command");
        return this.reply(args[0] as Buffer);
      case 'QUIT':
        return this.reply(OK, true);
      case 'AUTH': {
        if (args.length < 1 || args.length > 2) return this.refuse("ERR wrong number of arguments for 'auth' command");
        if (this.proxy.opts.clientPassword === null) {
          return this.refuse('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
        }
        if (!this.checkAuth(args.length === 2 ? str(0) : 'default', args[args.length - 1] as Buffer)) {
          return this.refuse('WRONGPASS invalid username-password pair or user is disabled.');
        }
        return this.reply(OK);
      }
      case 'HELLO':
        return this.hello(args);
      case 'SELECT': {
        const n = Number(str(0));
        if (args.length !== 1 || !Number.isInteger(n) || n < 0 || n > 15) return this.refuse('ERR DB index is out of range');
        // The proxy's upstream has one database; SELECT n (n > 0) becomes a key prefix so the apps stay apart.
        this.db = n;
        this.prefix = Buffer.from(`${this.proxy.opts.keyPrefix}${n === 0 ? '' : `db${n}:`}`, 'utf8');
        return this.reply(OK);
      }
      case 'CLIENT': {
        const sub = str(0).toUpperCase();
        if (sub === 'SETNAME' && args.length === 2) {
          if (/[\s]/.test(str(1))) return this.refuse('ERR Client names cannot contain spaces, newlines or special characters.');
          this.name = args[1] as Buffer;
          return this.reply(OK);
        }
        if (sub === 'GETNAME') return this.reply(this.name);
        if (sub === 'SETINFO') return this.reply(OK);
        return this.refuse(`ERR CLIENT ${sub.slice(0, 20)} is not supported by the session-store proxy (SETNAME, GETNAME)`);
      }
      case 'INFO':
        return this.reply(Buffer.from(this.proxy.statusText()));
      case 'PROXY':
        if (str(0).toUpperCase() !== 'STATUS') return this.refuse('ERR unknown PROXY subcommand; PROXY STATUS is the only one');
        return this.reply(Buffer.from(this.proxy.statusText()));
      case 'RESET':
        this.endTx();
        this.proto = 2;
        this.db = 0;
        this.prefix = Buffer.from(this.proxy.opts.keyPrefix, 'utf8');
        this.authed = this.proxy.opts.clientPassword === null;
        return this.reply({ status: 'RESET' });
      case 'MULTI':
        if (this.multi) return this.refuse('ERR MULTI calls can not be nested');
        this.multi = [];
        this.multiFailed = false;
        return this.reply(OK);
      case 'DISCARD':
        if (!this.multi) return this.refuse('ERR DISCARD without MULTI');
        this.endTx();
        return this.reply(OK);
      case 'WATCH':
        if (inTx) return this.refuse('ERR WATCH inside MULTI is not allowed');
        return this.watch(args);
      case 'UNWATCH':
        this.endTx();
        return this.reply(OK);
      case 'EXEC':
        return this.exec();
    }
  }

  private checkAuth(user: string, password: Buffer): boolean {
    const expected = Buffer.from(this.proxy.opts.clientPassword ?? '', 'utf8');
    const ok = user === 'default' && password.length === expected.length && timingSafeEqual(password, expected);
    if (ok) this.authed = true;
    return ok;
  }

  private hello(args: Buffer[]): void {
    let i = 0;
    if (args.length > 0) {
      const v = Number(args[0]?.toString('latin1'));
      if (v !== 2 && v !== 3) return this.refuse('NOPROTO unsupported protocol version');
      i = 1;
      for (; i < args.length; i++) {
        const opt = args[i]?.toString('latin1').toUpperCase();
        if (opt === 'AUTH' && i + 2 < args.length) {
          if (this.proxy.opts.clientPassword === null || !this.checkAuth(args[i + 1]?.toString('utf8') ?? '', args[i + 2] ?? Buffer.alloc(0))) {
            return this.refuse('WRONGPASS invalid username-password pair or user is disabled.');
          }
          i += 2;
        } else if (opt === 'SETNAME' && i + 1 < args.length) {
          this.name = args[++i] as Buffer;
        } else {
          return this.refuse(`ERR Syntax error in HELLO option '${opt?.slice(0, 20)}'`);
        }
      }
      if (!this.authed) return this.refuse('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
      this.proto = v;
    } else if (!this.authed) {
      return this.refuse('NOAUTH Authentication required.');
    }
    this.reply({
      map: [
        ['server', 'redis'],
        ['version', '7.0.0'],
        ['proto', this.proto],
        ['id', 0],
        ['mode', 'standalone'],
        ['role', 'master'],
        ['modules', []],
        ['proxy', 'fulcrum-session-store-proxy'],
      ],
    });
  }

  private watch(args: Buffer[]): void {
    if (args.length === 0) return this.refuse("ERR wrong number of arguments for 'watch' command");
    this.tx ??= this.proxy.opts.pool.dedicated(CLOSE_TX);
    if (this.tx === null) return this.failed(this.slot(), 'retryable', RETRYABLE);
    const cmd = [nameBytes('WATCH'), ...args.map((k) => Buffer.concat([this.prefix, k]))];
    const req = new Forwarded(this, encodeCommands([cmd]), 1, Shape.AsIs, false, false, false, performance.now());
    this.slots.push(req);
    this.tx.send(req);
  }

  private exec(): void {
    if (!this.multi) return this.refuse('ERR EXEC without MULTI');
    const queued = this.multi;
    const failed = this.multiFailed;
    this.multi = null;
    if (failed) {
      this.endTx();
      return this.refuse('EXECABORT Transaction discarded because of previous errors.');
    }
    const link = this.tx ?? this.proxy.opts.pool.dedicated(CLOSE_TX);
    this.tx = null;
    if (link === null) return this.failed(this.slot(), 'retryable', RETRYABLE);
    const cmds: Buffer[][] = [[nameBytes('MULTI')]];
    for (const q of queued) {
      cmds.push([nameBytes(q.up.name), ...q.up.args]);
      if (q.up.after) cmds.push([nameBytes(q.up.after.name), ...q.up.after.args]);
    }
    cmds.push([nameBytes('EXEC')]);
    const execIndex = cmds.length;
    const durable = this.proxy.opts.durable && queued.some((q) => FORWARDED[q.name]?.write);
    if (durable) cmds.push(waitCommand(this.proxy.opts.durableTimeoutMs));
    const req = new Transaction(this, encodeCommands(cmds), cmds.length, execIndex, queued, durable, () => link.retire());
    this.slots.push(req);
    link.send(req);
  }

  /** EXEC's reply: without the proxy's EXPIRE NX results, each result shaped like its command's. */
  transactionDone(s: Slot, exec: Buffer, queued: Queued[]): void {
    const plain = this.proto === 2 && queued.every((q) => !q.up.after && !q.up.setnx);
    if (plain || exec[0] !== 0x2a) return this.answerBytes(s, this.proto === 3 ? toResp3(exec, false) : exec);
    const items = arrayElements(exec);
    if (items === null) return this.answer(s, null); // a WATCHed key changed
    const own: Buffer[] = [];
    let i = 0;
    for (const q of queued) {
      const item = items[i++] as Buffer;
      if (q.up.after) i++;
      const shape = FORWARDED[q.name]?.mapReply === true;
      own.push(q.up.setnx ? setnxReply(item) : this.proto === 3 ? toResp3(item, shape) : item);
    }
    this.answerBytes(s, Buffer.concat([Buffer.from(`*${own.length}\r\n`), ...own]));
  }

  private endTx(): void {
    this.multi = null;
    this.multiFailed = false;
    this.tx?.retire();
    this.tx = null;
  }
}

/** Clients with replies to write at the end of this tick. */
let toFlush: ClientSession[] = [];

function flushAll(): void {
  const sessions = toFlush;
  toFlush = [];
  for (const c of sessions) c.flush();
}

/** Upper-case names of the known commands as clients spell them (mostly all lower or all upper case). */
const SPELLINGS = new Map<string, string>();
for (const n of [...Object.keys(FORWARDED), ...CONNECTION_COMMANDS]) {
  SPELLINGS.set(n, n);
  SPELLINGS.set(n.toLowerCase(), n);
}

/** The rewrite changed nothing: same command, same argument buffers, nothing sent after it. */
function unchanged(up: Upstream, name: string, args: readonly Buffer[]): boolean {
  if (up.name !== name || up.after !== undefined || up.setnx === true || up.args.length !== args.length) return false;
  for (let i = 0; i < args.length; i++) if (up.args[i] !== args[i]) return false;
  return true;
}

function commandName(arg: Buffer): string {
  const raw = arg.toString('latin1');
  return SPELLINGS.get(raw) ?? raw.toUpperCase();
}

const waitCommand = (timeoutMs: number): Buffer[] => [nameBytes('WAIT'), Buffer.from('1'), Buffer.from(String(timeoutMs))];
