// The RESP server: one ClientSession per connection, replies in request order, bounded memory per client.
import { timingSafeEqual } from 'node:crypto';
import { type Server, type Socket, createServer } from 'node:net';
import { Command, type Redis } from 'ioredis';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CONNECTION_COMMANDS, CommandError, FORWARDED, type CommandInfo } from './commands.js';
import { OK, type Protocol, type Reply, RequestParser, RespProtocolError, encode, err, type ParserLimits } from './resp.js';
import { type Upstream, rewrite } from './rewrite.js';
import { type UpstreamPool, isRetryable } from './upstream.js';

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
  counts: Map<string, number>;
  errors: Counter<'kind'>;
  latency: Histogram;
  clients: Gauge;
  connections: Counter;
}

function metrics(registry: Registry, pool: UpstreamPool, commandCounts: Map<string, number>): Metrics {
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
      // Counted in a plain map on the hot path (a labelled inc costs a label hash per command), copied at scrape.
      collect() {
        for (const [command, n] of commandCounts) this.inc({ command }, n);
        commandCounts.clear();
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
    return [
      '# Proxy',
      'proxy:fulcrum-session-store-proxy',
      `uptime_in_seconds:${Math.floor((Date.now() - this.startedAt) / 1000)}`,
      `connected_clients:${this.sessions.size}`,
      `total_commands_processed:${this.totalCommands}`,
      `upstream_state:${this.opts.pool.connected ? 'up' : 'down'}`,
      `upstream_master:${m ? `${m.address}:${m.port}` : ''}`,
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

class ClientSession {
  private readonly parser: RequestParser;
  private readonly slots: Slot[] = [];
  private backlog: Buffer[][] = [];
  private proto: Protocol = 2;
  private authed: boolean;
  private name: Buffer | null = null;
  private db = 0;
  private prefix: Buffer;
  private multi: Queued[] | null = null;
  private multiFailed = false;
  private tx: Redis | null = null;
  private closed = false;
  private paused = false;
  private partialTimer: NodeJS.Timeout | null = null;
  private flushScheduled = false;

  constructor(
    private readonly proxy: SessionProxy,
    private readonly socket: Socket,
  ) {
    const o = proxy.opts;
    this.parser = new RequestParser(o.limits);
    this.authed = o.clientPassword === null;
    this.prefix = Buffer.from(o.keyPrefix, 'utf8');
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
    this.tx?.disconnect();
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
    let cmds: Buffer[][];
    try {
      cmds = this.parser.feed(chunk);
    } catch (e) {
      if (e instanceof RespProtocolError) return this.fail(e.message);
      throw e;
    }
    for (const c of cmds) this.backlog.push(c);
    this.drainBacklog();
    this.armPartialTimer();
  }

  /**
   * Dispatches parsed commands while fewer than maxPendingReplies are unanswered. One read can hold thousands of
   * small commands; the rest wait here (at most one read's worth) with the socket paused.
   */
  private drainBacklog(): void {
    const max = this.proxy.opts.maxPendingReplies;
    let i = 0;
    while (i < this.backlog.length && this.slots.length < max && !this.closed) this.dispatch(this.backlog[i++] as Buffer[]);
    this.backlog.splice(0, i);
    if (this.backlog.length > 0 || this.slots.length >= max) this.pause();
  }

  private armPartialTimer(): void {
    if (this.parser.partial) {
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
    }
  }

  // ---- replies in order ----

  private slot(): Slot {
    const s: Slot = { reply: null };
    this.slots.push(s);
    return s;
  }

  private answer(s: Slot, r: Reply): void {
    s.reply = encode(r, this.proto);
    if (this.slots[0] === s && !this.flushScheduled) {
      this.flushScheduled = true;
      // One write for all replies that complete in this tick (pipelined clients get them in one segment).
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const out: Buffer[] = [];
    let quit = false;
    while (this.slots.length > 0 && this.slots[0]?.reply) {
      const s = this.slots.shift() as Slot;
      out.push(s.reply as Buffer);
      if (s.quit) {
        quit = true;
        break;
      }
    }
    if (out.length === 0) return;
    const data = out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
    if (quit) {
      this.closed = true;
      this.socket.end(data);
      return;
    }
    const ok = this.socket.write(data);
    if (!ok) this.pause();
    else this.maybeResume();
  }

  private reply(r: Reply, quit = false): void {
    const s = this.slot();
    if (quit) s.quit = true;
    this.answer(s, r);
  }

  // ---- commands ----

  private dispatch(argv: Buffer[]): void {
    const name = (argv[0] as Buffer).toString('latin1').toUpperCase();
    const args = argv.slice(1);
    this.proxy.totalCommands++;
    const known = CONNECTION_COMMANDS.has(name) || FORWARDED[name] !== undefined;
    const label = known ? name : 'unknown';
    const counts = this.proxy.metrics.counts;
    counts.set(label, (counts.get(label) ?? 0) + 1);
    if (!this.authed && name !== 'AUTH' && name !== 'HELLO' && name !== 'QUIT') {
      return this.refuse('NOAUTH Authentication required.');
    }
    if (CONNECTION_COMMANDS.has(name)) return this.connectionCommand(name, args);
    const info = FORWARDED[name];
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
    this.forward(name, info, up);
  }

  private refuse(message: string): void {
    this.proxy.metrics.errors.inc({ kind: 'refused' });
    this.reply(err(message));
  }

  private forward(name: string, info: CommandInfo, up: Upstream): void {
    const s = this.slot();
    const started = process.hrtime.bigint();
    const conn = this.tx ?? this.proxy.opts.pool.shared;
    const run = (retry: boolean): void => {
      const p = send(conn, up.name, up.args);
      if (up.after) send(conn, up.after.name, up.after.args).catch(() => undefined);
      const durable = info.write && this.proxy.opts.durable ? waitReplica(conn, this.proxy.opts.durableTimeoutMs) : null;
      p.then(
        async (value) => {
          let r = toReply(value, up, info, this.proto);
          if (durable) {
            const acked = await durable.catch((e: Error) => (isRetryable(e) ? -1 : -2));
            if (acked === -1) {
              this.proxy.metrics.errors.inc({ kind: 'retryable' });
              r = err('TRYAGAIN the write may be applied but the master went away before a replica confirmed it; retry');
            } else if (acked < 1) {
              this.proxy.metrics.errors.inc({ kind: 'durable' });
              r = err(`NOREPLICAS the write was applied on the master but no replica confirmed it within ${this.proxy.opts.durableTimeoutMs} ms`);
            }
          }
          this.proxy.metrics.latency.observe(Number(process.hrtime.bigint() - started) / 1e9);
          this.answer(s, r);
        },
        (e: Error) => {
          durable?.catch(() => undefined);
          if (isRetryable(e)) {
            if (retry && info.idempotent && conn === this.proxy.opts.pool.shared) return run(false);
            this.proxy.metrics.errors.inc({ kind: 'retryable' });
            return this.answer(s, err(RETRYABLE));
          }
          this.proxy.metrics.errors.inc({ kind: 'upstream' });
          this.answer(s, err(e.message));
        },
      );
    };
    run(true);
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
    this.tx ??= this.proxy.opts.pool.dedicated();
    const keys = args.map((k) => Buffer.concat([this.prefix, k]));
    const s = this.slot();
    send(this.tx, 'WATCH', keys).then(
      () => this.answer(s, OK),
      (e: Error) => this.answer(s, err(isRetryable(e) ? RETRYABLE : e.message)),
    );
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
    const conn = this.tx ?? this.proxy.opts.pool.dedicated();
    this.tx = null;
    const s = this.slot();
    const pipeline = conn.multi();
    // Which results are the clients' commands (the rest are the proxy's EXPIRE ... NX additions).
    const own: boolean[] = [];
    for (const q of queued) {
      callOn(pipeline, q.up.name, q.up.args);
      own.push(true);
      if (q.up.after) {
        callOn(pipeline, q.up.after.name, q.up.after.args);
        own.push(false);
      }
    }
    const writes = queued.some((q) => FORWARDED[q.name]?.write);
    pipeline
      .exec()
      .then(async (results) => {
        if (results === null) return this.answer(s, null); // a WATCHed key changed
        if (writes && this.proxy.opts.durable) {
          const acked = await waitReplica(conn, this.proxy.opts.durableTimeoutMs).catch(() => 0);
          if (acked < 1) {
            this.proxy.metrics.errors.inc({ kind: 'durable' });
            return this.answer(s, err(`NOREPLICAS the transaction was applied on the master but no replica confirmed it within ${this.proxy.opts.durableTimeoutMs} ms`));
          }
        }
        const replies = results.filter((_, i) => own[i]).map(([e, v], i) => {
          const q = queued[i] as Queued;
          return e ? err(e.message) : toReply(v, q.up, FORWARDED[q.name] as CommandInfo, this.proto);
        });
        this.answer(s, replies);
      })
      .catch((e: Error) => this.answer(s, err(isRetryable(e) ? RETRYABLE : `EXECABORT ${e.message}`)))
      .finally(() => conn.disconnect());
  }

  private endTx(): void {
    this.multi = null;
    this.multiFailed = false;
    this.tx?.disconnect();
    this.tx = null;
  }
}

const corked = new Set<Redis>();

/**
 * Sends one command with bytes in and out. Writes to a connection are corked until the end of this event-loop
 * iteration, so the commands of all clients served in one iteration leave in one syscall (ioredis's own
 * auto-pipelining flushes on nextTick, i.e. after every client's data event, which batches nothing at -P 1).
 */
function send(conn: Redis, name: string, args: Buffer[]): Promise<unknown> {
  const stream = conn.status === 'ready' ? conn.stream : null;
  if (stream && !corked.has(conn)) {
    if (corked.size === 0) setImmediate(uncorkAll);
    corked.add(conn);
    stream.cork();
  }
  return conn.sendCommand(new Command(name, args, { replyEncoding: null })) as Promise<unknown>;
}

function uncorkAll(): void {
  for (const conn of corked) conn.stream.uncork();
  corked.clear();
}

function callOn(pipeline: ReturnType<Redis['multi']>, name: string, args: Buffer[]): void {
  const fn = (pipeline as unknown as Record<string, (...a: Buffer[]) => unknown>)[`${name.toLowerCase()}Buffer`];
  fn?.apply(pipeline, args);
}

async function waitReplica(conn: Redis, timeoutMs: number): Promise<number> {
  return Number(await send(conn, 'WAIT', [Buffer.from('1'), Buffer.from(String(timeoutMs))]));
}

/** ioredis's value back into a typed reply: status replies and HGETALL's object need the command to know. */
function toReply(v: unknown, up: Upstream, info: CommandInfo, proto: Protocol): Reply {
  let r: Reply;
  if (info.mapReply && Array.isArray(v)) {
    const flat = v as Reply[];
    r = proto === 3 ? { map: flat.flatMap((k, i): [Reply, Reply][] => (i % 2 === 0 ? [[k, flat[i + 1] ?? null]] : [])) } : flat;
  } else if (info.mapReply && v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    // Inside MULTI ioredis turns HGETALL into an object (field names as strings).
    const entries = Object.entries(v as Record<string, Buffer>).map(([k, x]): [Reply, Reply] => [k, x]);
    r = proto === 3 ? { map: entries } : entries.flat();
  } else if (up.status && Buffer.isBuffer(v)) {
    r = { status: v.toString('utf8') };
  } else {
    r = v as Reply;
  }
  return up.mapReply ? up.mapReply(r) : r;
}
