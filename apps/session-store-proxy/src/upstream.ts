// The upstream side: one shared link (pipelined, replies forwarded as bytes) to the current master, found through
// Sentinel, named by the replication-monitor or configured directly, plus dedicated links for transactions. In
// sentinel mode the master is asked of the sentinels on every (re)connect, confirmed with ROLE, and left on
// +switch-master; in replication mode it is the one the monitor's latest word names (replication-master.ts),
// confirmed with ROLE the same way, and left when the monitor names another. Requests sent while
// no master is connected wait (at most commandTimeoutMs); requests in flight on a lost link are handed back to
// their owner, which decides whether a second attempt is safe.
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { SessionUpstream } from '@fulcrum/schemas';
import { command, encodeCommands } from './encoder.js';
import { type ReplicationFeed, ReplicationMaster } from './replication-master.js';
import { type LinkEvents, UpstreamLink, type UpstreamRequest } from './upstream-link.js';

export interface UpstreamOptions {
  upstream: SessionUpstream;
  username?: string | undefined;
  password?: string | undefined;
  database: number;
  /** A command waits at most this long for a reply (also while the master is being found). */
  commandTimeoutMs: number;
  /** Replication mode only (required there): where the replication-monitor's word comes from. */
  replicationFeed?: ReplicationFeed | undefined;
}

/** No master to connect to now (the sentinels or the replication-monitor name none); the loop tries again. */
export class NoMasterError extends Error {
  override readonly name = 'NoMasterError';
}

/** The pool cannot work with the options it was given. */
export class UpstreamConfigError extends Error {
  override readonly name = 'UpstreamConfigError';
}

export interface MasterAddress {
  address: string;
  port: number;
}

/** Why a request did not get its replies; `retryable` is false when it already waited its whole timeout. */
export interface LostReason {
  message: string;
  retryable: boolean;
}

/** A request the pool can hand back: `lost` instead of UpstreamRequest.onLost, to know whether to try again. */
export interface PoolRequest extends UpstreamRequest {
  lost(reason: LostReason): void;
}

const CONNECT_TIMEOUT_MS = 2000;

/** Emits 'master' (MasterAddress, previous) when connected to a (new) master, and 'down' (reason) when the link is lost. */
export class UpstreamPool extends EventEmitter {
  master: MasterAddress | null = null;
  failovers = 0;
  lastError: string | null = null;
  private shared: UpstreamLink | null = null;
  private readonly offline: PoolRequest[] = [];
  private readonly dedicatedLinks = new Set<UpstreamLink>();
  private readonly handshake: { bytes: Buffer; replies: number; roleAt: number };
  private readonly sentinels: { ask: Redis; watch: Redis }[] = [];
  /** Replication mode: the master the monitor names. */
  readonly replication: ReplicationMaster | null = null;
  private readonly timer: NodeJS.Timeout;
  private stopped = false;
  private looping = false;
  private wakeUp: (() => void) | null = null;

  constructor(private readonly opts: UpstreamOptions) {
    super();
    const cmds: Buffer[][] = [];
    if (opts.password !== undefined) cmds.push(opts.username === undefined ? command('AUTH', opts.password) : command('AUTH', opts.username, opts.password));
    if (opts.database !== 0) cmds.push(command('SELECT', String(opts.database)));
    let roleAt = -1;
    const u = opts.upstream;
    if (u.mode === 'replication' && opts.replicationFeed === undefined) {
      throw new UpstreamConfigError(`upstream mode replication (cluster "${u.replicationCluster}") needs a replication feed: the proxy must be connected to NATS`);
    }
    if (u.mode !== 'direct') {
      roleAt = cmds.length;
      cmds.push(command('ROLE'));
    }
    if (u.mode === 'sentinel') this.watchSentinels(u);
    this.handshake = { bytes: cmds.length > 0 ? Buffer.from(encodeCommands(cmds)) : Buffer.alloc(0), replies: cmds.length, roleAt };
    this.timer = setInterval(() => this.expire(), Math.max(10, Math.min(250, opts.commandTimeoutMs / 4)));
    this.timer.unref();
    if (u.mode === 'replication' && opts.replicationFeed) {
      this.replication = new ReplicationMaster(u.replicationCluster, (m, node) => {
        if (m !== null) this.leaveMasterFor(m, `the replication-monitor names ${node} (${m.address}:${m.port}) the master of "${u.replicationCluster}"`);
      });
      opts.replicationFeed.start(this.replication);
    }
    void this.connectLoop();
  }

  /** How the master is found: direct, sentinel or replication. */
  get mode(): SessionUpstream['mode'] {
    return this.opts.upstream.mode;
  }

  get connected(): boolean {
    return this.shared?.state === 'ready';
  }

  /** Sends on the shared link, or queues until a master is connected. */
  send(req: PoolRequest): void {
    const link = this.shared;
    if (link !== null && link.state === 'ready') return link.send(req);
    if (this.stopped) return req.lost({ message: 'proxy shutting down', retryable: false });
    req.sentAt = Date.now();
    this.offline.push(req);
  }

  /** A link of its own to the current master (transactions), or null when there is none; the caller closes it. */
  dedicated(events: LinkEvents): UpstreamLink | null {
    const m = this.master;
    if (m === null || !this.connected) return null;
    const link = new UpstreamLink(this.linkOptions(m), {
      ready: (l) => events.ready(l),
      closed: (l, reason, lost) => {
        this.dedicatedLinks.delete(l);
        events.closed(l, reason, lost);
      },
    });
    this.dedicatedLinks.add(link);
    return link;
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.wakeUp?.();
    this.shared?.close('proxy shutting down');
    for (const l of [...this.dedicatedLinks]) l.close('proxy shutting down');
    for (const r of this.offline.splice(0)) r.lost({ message: 'proxy shutting down', retryable: false });
    for (const s of this.sentinels) {
      s.ask.disconnect();
      s.watch.disconnect();
    }
    await this.opts.replicationFeed?.close();
    await new Promise((r) => setImmediate(r));
  }

  private linkOptions(m: MasterAddress) {
    const roleAt = this.handshake.roleAt;
    return {
      host: m.address,
      port: m.port,
      handshake: this.handshake.bytes,
      handshakeReplies: this.handshake.replies,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      check: (index: number, frame: Buffer): string | null => {
        if (frame[0] === 0x2d) return frame.toString('utf8', 1, frame.length - 2);
        // ROLE: *3\r\n$6\r\nmaster\r\n...; a sentinel that is late may still name a demoted master.
        if (index === roleAt && !/^\*\d+\r\n\$6\r\nmaster\r\n/.test(frame.toString('latin1', 0, 24))) return 'is not a master (ROLE)';
        return null;
      },
    };
  }

  private async connectLoop(): Promise<void> {
    if (this.looping) return;
    this.looping = true;
    for (let attempt = 1; !this.stopped; attempt++) {
      let target: MasterAddress | null = null;
      try {
        target = await this.discover();
      } catch (e) {
        this.lastError = (e as Error).message;
      }
      if (target !== null && !this.stopped && (await this.open(target))) break;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        setTimeout(resolve, Math.min(50 * attempt, 500)).unref();
      });
      this.wakeUp = null;
    }
    this.looping = false;
  }

  /** Connects to `target`; true once it is the ready shared link, false if it failed first. */
  private open(target: MasterAddress): Promise<boolean> {
    return new Promise((resolve) => {
      let isReady = false;
      new UpstreamLink(this.linkOptions(target), {
        ready: (link) => {
          if (this.stopped) return link.close('proxy shutting down');
          // The monitor named another master while this one was being connected to: not this one after all.
          const named = this.replication?.master;
          if (named && (named.address !== target.address || named.port !== target.port)) {
            return link.close(`${target.address}:${target.port} is no longer the master the replication-monitor names`);
          }
          isReady = true;
          this.shared = link;
          const previous = this.master;
          if (previous !== null && (previous.address !== target.address || previous.port !== target.port)) this.failovers++;
          this.master = target;
          resolve(true);
          this.emit('master', target, previous);
          for (const r of this.offline.splice(0)) link.send(r);
        },
        closed: (link, reason, lost) => {
          this.lastError = reason;
          if (!isReady) return resolve(false);
          if (this.shared === link) this.shared = null;
          this.emit('down', `upstream connection lost: ${reason}`);
          for (const r of lost) (r as PoolRequest).lost({ message: reason, retryable: true });
          if (!this.stopped) void this.connectLoop();
        },
      });
    });
  }

  private async discover(): Promise<MasterAddress> {
    const u = this.opts.upstream;
    if (u.mode === 'direct') return u.master;
    if (u.mode === 'replication') {
      const r = this.replication as ReplicationMaster;
      const m = r.master;
      if (m === null) throw new NoMasterError(`no master known: ${r.waitingFor ?? 'waiting for the replication-monitor'}`);
      return m;
    }
    const failures: string[] = [];
    for (const [i, s] of this.sentinels.entries()) {
      try {
        const r = (await s.ask.call('SENTINEL', 'get-master-addr-by-name', u.masterName)) as [string, string] | null;
        if (r === null) {
          failures.push(`sentinel ${i + 1} does not know master '${u.masterName}'`);
          continue;
        }
        return { address: r[0], port: Number(r[1]) };
      } catch (e) {
        failures.push(`sentinel ${i + 1}: ${(e as Error).message}`);
      }
    }
    throw new NoMasterError(`no sentinel named the master: ${failures.join('; ')}`);
  }

  private watchSentinels(u: Extract<SessionUpstream, { mode: 'sentinel' }>): void {
    for (const s of u.sentinels) {
      const base = {
        host: s.address,
        port: s.port,
        ...(u.sentinelPassword === undefined ? {} : { password: u.sentinelPassword }),
        retryStrategy: () => 500,
        connectTimeout: CONNECT_TIMEOUT_MS,
      };
      const ask = new Redis({ ...base, commandTimeout: 1000, maxRetriesPerRequest: 1 });
      const watch = new Redis({ ...base, maxRetriesPerRequest: null });
      ask.on('error', () => undefined); // a sentinel that is down is skipped when asked
      watch.on('error', () => undefined);
      watch.on('message', (_channel: string, message: string) => this.onSwitchMaster(message));
      watch.subscribe('+switch-master').catch(() => undefined); // ioredis subscribes again on reconnect
      this.sentinels.push({ ask, watch });
    }
  }

  /** `+switch-master <name> <old-ip> <old-port> <new-ip> <new-port>`: leave the old master at once. */
  private onSwitchMaster(message: string): void {
    const [name, , , address, port] = message.split(' ');
    if (this.opts.upstream.mode !== 'sentinel' || name !== this.opts.upstream.masterName || address === undefined) return;
    this.leaveMasterFor({ address, port: Number(port) }, `sentinel switched the master to ${address}:${port}`);
  }

  /**
   * Another node is the master now: the shared link to the old one is closed (its commands in flight handled as
   * on a lost link) and the loop, woken at once, connects to the new one. Transactions on the old master go too:
   * an EXEC there would write where nobody reads.
   */
  private leaveMasterFor(next: MasterAddress, reason: string): void {
    const onOther = (l: UpstreamLink) => l.opts.host !== next.address || l.opts.port !== next.port;
    if (this.shared !== null && onOther(this.shared)) this.shared.close(reason);
    for (const l of [...this.dedicatedLinks]) if (onOther(l)) l.close(reason);
    this.wakeUp?.();
  }

  /** Commands past their timeout: waiting ones are answered, a link that stopped answering is dropped. */
  private expire(): void {
    const now = Date.now();
    const limit = this.opts.commandTimeoutMs;
    while (this.offline.length > 0 && now - (this.offline[0] as PoolRequest).sentAt >= limit) {
      const why = this.lastError === null ? '' : ` (${this.lastError})`;
      (this.offline.shift() as PoolRequest).lost({ message: `no upstream master within ${limit} ms${why}`, retryable: false });
    }
    for (const link of [this.shared, ...this.dedicatedLinks]) {
      const oldest = link?.oldestSentAt;
      if (link && oldest != null && now - oldest >= limit) link.close(`no reply within ${limit} ms`);
    }
  }
}
