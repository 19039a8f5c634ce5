// The upstream side: one shared ioredis connection (pipelined) to the current master, found through
// Sentinel or configured directly, plus dedicated connections for transactions. ioredis follows Sentinel's
// master: on a lost connection it asks the sentinels again, and its failover detector reconnects on
// +switch-master. In-flight commands are not resent automatically (a write might run twice); the proxy
// decides per command.
import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import type { SessionUpstream } from '@fulcrum/schemas';

export interface UpstreamOptions {
  upstream: SessionUpstream;
  username?: string | undefined;
  password?: string | undefined;
  database: number;
  /** A command waits at most this long for a reply (also while the master is being found). */
  commandTimeoutMs: number;
}

export interface MasterAddress {
  address: string;
  port: number;
}

/** Emits 'master' (MasterAddress) when connected to a (new) master, and 'down' (reason) when the link is lost. */
export class UpstreamPool extends EventEmitter {
  readonly shared: Redis;
  master: MasterAddress | null = null;
  failovers = 0;
  lastError: string | null = null;
  private readonly opts: UpstreamOptions;

  constructor(opts: UpstreamOptions) {
    super();
    this.opts = opts;
    this.shared = this.connect();
    this.shared.on('ready', () => this.onReady());
    // ioredis reports each failed reconnect as an error event; the state is in `connected` and the events.
    this.shared.on('error', (e: Error) => (this.lastError = e.message));
    this.shared.on('close', () => {
      if (this.master !== null) this.emit('down', 'upstream connection closed');
    });
  }

  /** A connection for one client's transaction (WATCH/MULTI/EXEC); the caller quits it. */
  dedicated(): Redis {
    const conn = this.connect();
    conn.on('error', () => undefined); // its commands fail with the error; the client gets it as a reply
    return conn;
  }

  get connected(): boolean {
    return this.shared.status === 'ready';
  }

  async close(): Promise<void> {
    this.shared.disconnect(false);
    await new Promise((r) => setImmediate(r));
  }

  private connect(): Redis {
    const u = this.opts.upstream;
    const common: RedisOptions = {
      db: this.opts.database,
      // The proxy batches writes itself (see send() in proxy.ts).
      enableAutoPipelining: false,
      // A command in flight when the connection drops fails; the proxy retries only what is idempotent.
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: null,
      commandTimeout: this.opts.commandTimeoutMs,
      retryStrategy: (times) => Math.min(50 * times, 500),
      // A demoted master answers READONLY: reconnect (through Sentinel) to find the new one.
      reconnectOnError: (e) => (e.message.startsWith('READONLY') ? 1 : false),
      lazyConnect: false,
      ...(this.opts.username === undefined ? {} : { username: this.opts.username }),
      ...(this.opts.password === undefined ? {} : { password: this.opts.password }),
    };
    if (u.mode === 'direct') return new Redis({ ...common, host: u.master.address, port: u.master.port });
    return new Redis({
      ...common,
      sentinels: u.sentinels.map((s) => ({ host: s.address, port: s.port })),
      name: u.masterName,
      failoverDetector: true,
      sentinelRetryStrategy: () => 200,
      ...(u.sentinelPassword === undefined ? {} : { sentinelPassword: u.sentinelPassword }),
    });
  }

  private onReady(): void {
    const s = this.shared.stream;
    const address = s.remoteAddress ?? '';
    const port = s.remotePort ?? 0;
    const previous = this.master;
    if (previous !== null && (previous.address !== address || previous.port !== port)) this.failovers++;
    this.master = { address: address.replace(/^::ffff:/, ''), port };
    this.emit('master', this.master, previous);
  }
}

/** Errors that mean "the master went away or is changing": the client may retry. */
export function isRetryable(e: Error): boolean {
  const m = e.message;
  return (
    e.name === 'MaxRetriesPerRequestError' ||
    m.startsWith('READONLY') ||
    m.startsWith('LOADING') ||
    m.startsWith('MASTERDOWN') ||
    m.includes('Connection is closed') ||
    m.includes('Command timed out') ||
    m.includes('ECONNRESET') ||
    m.includes('ECONNREFUSED') ||
    m.includes("Stream isn't writeable")
  );
}
