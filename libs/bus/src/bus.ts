import { readFileSync } from 'node:fs';
import { subjectFor, type RequestSubject, type Subject } from '@fulcrum/schemas';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import {
  connect,
  credsAuthenticator,
  errors as natsErrors,
  headers,
  nkeyAuthenticator,
  RequestError,
  type ConnectionOptions,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { decodeValue, encodeValue, subscriptionSubject, tokensOf } from './codec.js';
import {
  BusAuthenticationError,
  BusError,
  BusUnavailableError,
  InvalidMessageError,
  RemoteError,
  ReplyErrorCode,
  RequestTimeoutError,
} from './errors.js';
import { busMetrics, type BusMetrics } from './metrics.js';

/** How a service proves who it is to NATS. */
export type BusAuth =
  | { user: string; pass: string }
  | { token: string }
  /** An nkey seed (`SU...`), for a server configured with the user's public nkey. */
  | { nkeySeed: string }
  /** A `.creds` file (JWT + nkey seed) for an operator-mode server. */
  | { credsFile: string };

export interface BusOptions {
  /** nats://host:port, one or several (a cluster). */
  servers: string | string[];
  /** The connection name the server shows, e.g. `ipvs-agent@director1`. */
  name: string;
  auth?: BusAuth;
  logger?: Logger;
  /** Where the bus's counters go; a registry of its own when absent (see `bus.registry`). */
  registry?: Registry;
  /** How long a request or KV operation may wait for an answer (default 2000 ms). */
  timeoutMs?: number;
  /** Pause between reconnect attempts (default 1000 ms); reconnecting never gives up. */
  reconnectWaitMs?: number;
  /** How long the first connection attempt may take (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Keep trying the first connection instead of failing (default false). */
  waitForServer?: boolean;
}

export type BusState = 'connected' | 'disconnected' | 'closed';

export interface BusStateEvent {
  readonly state: BusState;
  /** The server it (dis)connected from/to, when known. */
  readonly server?: string;
  readonly since: Date;
}

export interface MessageMeta {
  /** The concrete subject, e.g. `fulcrum.evt.health.director1`. */
  readonly subject: string;
  /** Its `{token}` values, e.g. `{ type: 'health', host: 'director1' }`. */
  readonly tokens: Readonly<Record<string, string>>;
}

export type MessageHandler<T> = (data: T, meta: MessageMeta) => void | Promise<void>;
export type RequestHandler<Req, Rep> = (request: Req, meta: MessageMeta) => Rep | Promise<Rep>;

export interface BusSubscription {
  /** The subscribed subject (with `*` for tokens that were not given). */
  readonly subject: string;
  unsubscribe(): void;
  /** Resolves when the subscription has ended and its last message was handled. */
  readonly closed: Promise<void>;
}

export interface Bus {
  readonly name: string;
  readonly state: BusState;
  /** When `state` last changed. */
  readonly stateSince: Date;
  /** The server it is (or was last) connected to, e.g. `127.0.0.1:4222`. */
  readonly server: string;
  readonly registry: Registry;
  /** Calls `listener` on every state change (for logs and /readyz); returns the function that stops it. */
  onStateChange(listener: (event: BusStateEvent) => void): () => void;
  /** Resolves once connected (at once if it is); rejects when the bus closes first. */
  connected(): Promise<void>;
  /** Validates and sends; throws InvalidMessageError (naming the field) or BusUnavailableError. */
  publish<T>(subject: Subject<T>, tokens: Readonly<Record<string, string>>, data: T): void;
  /**
   * Receives validated messages, one at a time in arrival order; missing tokens match anything.
   * Invalid messages are logged, counted and dropped; a handler that throws is logged and counted.
   */
  subscribe<T>(
    subject: Subject<T>,
    tokens: Readonly<Record<string, string>>,
    handler: MessageHandler<T>,
    opts?: { queue?: string },
  ): BusSubscription;
  /** Sends a validated request and returns the validated reply. */
  request<Req, Rep>(
    subject: RequestSubject<Req, Rep>,
    tokens: Readonly<Record<string, string>>,
    data: Req,
    opts?: { timeoutMs?: number },
  ): Promise<Rep>;
  /** Answers requests one at a time; invalid requests, failed handlers and invalid replies get an error reply. */
  serve<Req, Rep>(
    subject: RequestSubject<Req, Rep>,
    tokens: Readonly<Record<string, string>>,
    handler: RequestHandler<Req, Rep>,
    opts?: { queue?: string },
  ): BusSubscription;
  /** Round trip to the server: after it, earlier subscriptions are in place there. */
  flush(): Promise<void>;
  /** Lets subscriptions finish what they received, then closes. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Header that marks a reply as an error: its value is a ReplyErrorCode, the body `{ message }`. */
export const ERROR_HEADER = 'Fulcrum-Error';
const REPLY_ERROR_CODES = new Set<string>(Object.values(ReplyErrorCode));

const encoder = new TextEncoder();

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Turns what nats.js threw into a BusError; `write` marks operations whose outcome a timeout leaves unknown. */
export function toBusError(err: unknown, what: string, timeoutMs: number, write = false): BusError {
  if (err instanceof BusError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  if (e instanceof natsErrors.TimeoutError || e.cause instanceof natsErrors.TimeoutError) {
    const unknown = write ? ' (it may or may not have been done)' : '';
    return new BusUnavailableError(`${what}: no answer from NATS within ${timeoutMs} ms${unknown}`, write, { cause: e });
  }
  if ((e instanceof RequestError && e.isNoResponders()) || e.name === 'JetStreamNotEnabled') {
    return new BusUnavailableError(`${what}: JetStream is not available`, false, { cause: e });
  }
  if (e instanceof natsErrors.ClosedConnectionError || e instanceof natsErrors.DrainingConnectionError) {
    return new BusUnavailableError(`${what}: the bus is closed`, false, { cause: e });
  }
  if (e instanceof natsErrors.ConnectionError) {
    return new BusUnavailableError(`${what}: ${e.message}`, write, { cause: e });
  }
  return new BusError(`${what}: ${e.message}`, { cause: e });
}

function authOptions(auth: BusAuth | undefined): Partial<ConnectionOptions> {
  if (!auth) return {};
  if ('user' in auth) return { user: auth.user, pass: auth.pass };
  if ('token' in auth) return { token: auth.token };
  if ('nkeySeed' in auth) return { authenticator: nkeyAuthenticator(encoder.encode(auth.nkeySeed)) };
  let creds: Uint8Array;
  try {
    creds = readFileSync(auth.credsFile);
  } catch (err) {
    throw new BusError(`cannot read the NATS credentials file ${auth.credsFile}: ${describe(err)}`, { cause: err });
  }
  return { authenticator: credsAuthenticator(creds) };
}

function isAuthError(err: unknown): boolean {
  if (err instanceof natsErrors.AuthorizationError) return true;
  return err instanceof Error && /authorization violation|authentication/i.test(err.message);
}

/** The NATS-backed bus; the store reaches its connection through this class (not exported from the lib). */
export class NatsBus implements Bus {
  readonly registry: Registry;
  readonly metrics: BusMetrics;
  readonly log: Logger;
  readonly js: JetStreamClient;
  readonly kvm: Kvm;
  private currentState: BusState = 'connected';
  private since = new Date();
  private readonly listeners = new Set<(event: BusStateEvent) => void>();
  /** Live subscription loops, so drain() can wait until their handlers are done. */
  private readonly loops = new Set<{ sub: Subscription; done: Promise<void> }>();

  constructor(
    readonly nc: NatsConnection,
    readonly name: string,
    readonly timeoutMs: number,
    logger: Logger,
    registry: Registry,
  ) {
    this.registry = registry;
    this.metrics = busMetrics(registry);
    this.log = logger;
    this.js = jetstream(nc, { timeout: timeoutMs });
    this.kvm = new Kvm(this.js);
    void this.followStatus();
    void nc.closed().then((err) => {
      if (err) this.log.error({ err }, 'bus connection closed by an error');
      this.setState('closed');
    });
  }

  get state(): BusState {
    return this.currentState;
  }

  get stateSince(): Date {
    return this.since;
  }

  get server(): string {
    return this.nc.getServer();
  }

  private async followStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      switch (s.type) {
        case 'disconnect':
          this.setState('disconnected', s.server);
          break;
        case 'reconnect':
          this.setState('connected', s.server);
          break;
        case 'error':
          this.log.error({ err: s.error }, 'NATS server error');
          break;
        case 'slowConsumer':
          this.log.warn({ subject: s.sub.getSubject(), pending: s.pending }, 'subscription falls behind: messages may be dropped');
          break;
        case 'ldm':
          this.log.warn({ server: s.server }, 'NATS server entering lame duck mode');
          break;
        default:
          break;
      }
    }
  }

  private setState(state: BusState, server?: string): void {
    if (state === this.currentState || this.currentState === 'closed') return;
    this.currentState = state;
    this.since = new Date();
    const event: BusStateEvent = server === undefined ? { state, since: this.since } : { state, server, since: this.since };
    if (state === 'disconnected') this.log.warn({ server }, 'bus disconnected');
    else this.log.info({ server }, state === 'connected' ? 'bus reconnected' : 'bus closed');
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ err }, 'bus state listener failed');
      }
    }
  }

  onStateChange(listener: (event: BusStateEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  connected(): Promise<void> {
    if (this.currentState === 'connected') return Promise.resolve();
    if (this.currentState === 'closed') return Promise.reject(new BusUnavailableError(`bus ${this.name}: closed`));
    return new Promise((resolve, reject) => {
      const off = this.onStateChange((e) => {
        if (e.state === 'disconnected') return;
        off();
        if (e.state === 'connected') resolve();
        else reject(new BusUnavailableError(`bus ${this.name}: closed`));
      });
    });
  }

  /** Fails fast instead of letting the operation wait for a reconnect. */
  ensureConnected(what: string): void {
    if (this.currentState === 'connected') return;
    if (this.currentState === 'closed') throw new BusUnavailableError(`${what}: the bus is closed`);
    throw new BusUnavailableError(`${what}: not connected to NATS (disconnected since ${this.since.toISOString()})`);
  }

  private subjectName(name: string, tokens: Readonly<Record<string, string>>): string {
    try {
      return subjectFor(name, tokens);
    } catch (err) {
      throw new BusError(describe(err), { cause: err });
    }
  }

  private patternName(name: string, tokens: Readonly<Record<string, string>>): string {
    try {
      return subscriptionSubject(name, tokens);
    } catch (err) {
      throw new BusError(describe(err), { cause: err });
    }
  }

  /** Logs and counts a message that failed validation; `template` keeps the metric's labels few. */
  reportInvalid(template: string, error: InvalidMessageError, what: string): void {
    this.metrics.invalidMessages.inc({ subject: template });
    this.log.warn({ subject: error.subject, issues: error.issues }, `${what}: ${error.message}`);
  }

  publish<T>(subject: Subject<T>, tokens: Readonly<Record<string, string>>, data: T): void {
    const name = this.subjectName(subject.name, tokens);
    const payload = encodeValue(subject.schema, data, name);
    this.ensureConnected(`publish ${name}`);
    try {
      this.nc.publish(name, payload);
    } catch (err) {
      throw toBusError(err, `publish ${name}`, this.timeoutMs);
    }
  }

  subscribe<T>(
    subject: Subject<T>,
    tokens: Readonly<Record<string, string>>,
    handler: MessageHandler<T>,
    opts: { queue?: string } = {},
  ): BusSubscription {
    const pattern = this.patternName(subject.name, tokens);
    const sub = this.nc.subscribe(pattern, opts.queue === undefined ? {} : { queue: opts.queue });
    const closed = (async () => {
      try {
        for await (const m of sub) {
          const decoded = decodeValue(subject.schema, m.data, m.subject);
          if (!decoded.ok) {
            this.reportInvalid(subject.name, decoded.error, 'message dropped');
            continue;
          }
          try {
            await handler(decoded.value, { subject: m.subject, tokens: tokensOf(subject.name, m.subject) });
          } catch (err) {
            this.metrics.handlerErrors.inc({ subject: subject.name });
            this.log.error({ err, subject: m.subject }, 'message handler failed');
          }
        }
      } catch (err) {
        this.log.error({ err, subject: pattern }, 'subscription ended by an error');
      }
    })();
    return this.track(pattern, sub, closed);
  }

  private track(pattern: string, sub: Subscription, done: Promise<void>): BusSubscription {
    const loop = { sub, done };
    this.loops.add(loop);
    void done.finally(() => this.loops.delete(loop));
    return { subject: pattern, unsubscribe: () => sub.unsubscribe(), closed: done };
  }

  async request<Req, Rep>(
    subject: RequestSubject<Req, Rep>,
    tokens: Readonly<Record<string, string>>,
    data: Req,
    opts: { timeoutMs?: number } = {},
  ): Promise<Rep> {
    const name = this.subjectName(subject.name, tokens);
    const payload = encodeValue(subject.request, data, name);
    const what = `request ${name}`;
    this.ensureConnected(what);
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    let reply: Msg;
    try {
      reply = await this.nc.request(name, payload, { timeout: timeoutMs });
    } catch (err) {
      if (err instanceof natsErrors.TimeoutError) throw new RequestTimeoutError(name, timeoutMs, { cause: err });
      if (err instanceof RequestError && err.isNoResponders()) {
        throw new BusUnavailableError(`${what}: no service answers on this subject`, false, { cause: err });
      }
      throw toBusError(err, what, timeoutMs);
    }
    const code = reply.headers?.get(ERROR_HEADER);
    if (code) {
      let message = '';
      try {
        message = String((reply.json() as { message?: unknown }).message ?? '');
      } catch {
        message = reply.string();
      }
      const known = REPLY_ERROR_CODES.has(code) ? (code as ReplyErrorCode) : ReplyErrorCode.HandlerFailed;
      throw new RemoteError(name, known, message);
    }
    const decoded = decodeValue(subject.reply, reply.data, name);
    if (!decoded.ok) {
      this.reportInvalid(subject.name, decoded.error, 'reply refused');
      throw decoded.error;
    }
    return decoded.value;
  }

  serve<Req, Rep>(
    subject: RequestSubject<Req, Rep>,
    tokens: Readonly<Record<string, string>>,
    handler: RequestHandler<Req, Rep>,
    opts: { queue?: string } = {},
  ): BusSubscription {
    const pattern = this.patternName(subject.name, tokens);
    const sub = this.nc.subscribe(pattern, opts.queue === undefined ? {} : { queue: opts.queue });
    const fail = (m: Msg, code: ReplyErrorCode, message: string) => {
      const h = headers();
      h.set(ERROR_HEADER, code);
      m.respond(encoder.encode(JSON.stringify({ message })), { headers: h });
    };
    const closed = (async () => {
      try {
        for await (const m of sub) {
          const decoded = decodeValue(subject.request, m.data, m.subject);
          if (!decoded.ok) {
            this.reportInvalid(subject.name, decoded.error, 'request refused');
            fail(m, ReplyErrorCode.InvalidRequest, decoded.error.message);
            continue;
          }
          let result: Rep;
          try {
            result = await handler(decoded.value, { subject: m.subject, tokens: tokensOf(subject.name, m.subject) });
          } catch (err) {
            this.metrics.handlerErrors.inc({ subject: subject.name });
            this.log.error({ err, subject: m.subject }, 'request handler failed');
            fail(m, ReplyErrorCode.HandlerFailed, err instanceof Error ? `${err.name}: ${err.message}` : String(err));
            continue;
          }
          let payload: Uint8Array;
          try {
            payload = encodeValue(subject.reply, result, m.subject);
          } catch (err) {
            if (!(err instanceof InvalidMessageError)) throw err;
            this.reportInvalid(subject.name, err, 'reply not sent');
            fail(m, ReplyErrorCode.InvalidReply, err.message);
            continue;
          }
          m.respond(payload);
        }
      } catch (err) {
        this.log.error({ err, subject: pattern }, 'service subscription ended by an error');
      }
    })();
    return this.track(pattern, sub, closed);
  }

  async flush(): Promise<void> {
    this.ensureConnected('flush');
    try {
      await this.nc.flush();
    } catch (err) {
      throw toBusError(err, 'flush', this.timeoutMs);
    }
  }

  async drain(): Promise<void> {
    if (this.nc.isClosed()) return;
    // Subscriptions first, while the connection can still carry what their handlers send.
    const loops = [...this.loops];
    await Promise.all(loops.map((l) => l.sub.drain().catch(() => undefined)));
    await Promise.all(loops.map((l) => l.done));
    await this.nc.drain();
    this.setState('closed');
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
    this.setState('closed');
  }
}

/**
 * Connects to NATS (authenticated when `auth` is given) and returns the typed bus. It reconnects for
 * ever after a connection loss and reports each state change; operations fail fast meanwhile.
 */
export async function connectBus(opts: BusOptions): Promise<Bus> {
  const logger = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'bus', bus: opts.name });
  const servers = Array.isArray(opts.servers) ? opts.servers : [opts.servers];
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: opts.name,
      ...authOptions(opts.auth),
      maxReconnectAttempts: -1,
      reconnectTimeWait: opts.reconnectWaitMs ?? 1000,
      reconnectJitter: 100,
      timeout: opts.connectTimeoutMs ?? 5000,
      waitOnFirstConnect: opts.waitForServer ?? false,
      // A silent dead link is noticed after pingInterval * maxPingOut.
      pingInterval: 5000,
      maxPingOut: 3,
    });
  } catch (err) {
    if (err instanceof BusError) throw err;
    if (isAuthError(err)) {
      const who = opts.auth && 'user' in opts.auth ? `user ${opts.auth.user}` : 'the given credentials';
      throw new BusAuthenticationError(`bus ${opts.name}: NATS at ${servers.join(', ')} refused ${who}`, { cause: err });
    }
    throw new BusUnavailableError(`bus ${opts.name}: cannot connect to NATS at ${servers.join(', ')}: ${describe(err)}`, false, {
      cause: err,
    });
  }
  logger.info({ server: nc.getServer() }, 'bus connected');
  return new NatsBus(nc, opts.name, opts.timeoutMs ?? 2000, logger, opts.registry ?? new Registry());
}
