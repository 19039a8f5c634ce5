import { Redis } from 'ioredis';
import type { NodeProbe } from '../monitor/probe.js';
import type { NodeSample, ProbeFailure } from '../monitor/sample.js';
import { parseReplicationInfo } from './info.js';

export interface RedisNodeOptions {
  node: string;
  address: string;
  port: number;
  user?: string | undefined;
  password?: string | undefined;
  timeoutMs: number;
  /** Key of this monitor's heartbeat; absent = no heartbeat. */
  heartbeatKey?: string | undefined;
}

function classify(message: string, where: string): ProbeFailure {
  if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(message)) return { kind: 'login-refused', message: `login refused by ${where}: ${message}` };
  if (/NOPERM/i.test(message)) return { kind: 'no-privilege', message: `${where}: ${message}` };
  if (/timed? ?out/i.test(message)) return { kind: 'timeout', message: `${where} did not answer in time` };
  return { kind: 'unreachable', message: `cannot reach ${where}: ${message}` };
}

/**
 * One Redis node: INFO replication (+ GET of the heartbeat key) per poll over one connection that reconnects by
 * itself. Commands are never queued while it is down, so a poll of a dead node fails at once.
 */
export class RedisNode implements NodeProbe {
  private readonly client: Redis;
  private lastError = 'not connected yet';

  constructor(private readonly opts: RedisNodeOptions) {
    this.client = new Redis({
      host: opts.address,
      port: opts.port,
      ...(opts.user ? { username: opts.user } : {}),
      ...(opts.password ? { password: opts.password } : {}),
      connectTimeout: opts.timeoutMs,
      commandTimeout: opts.timeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      // Reconnect at most as often as the node is polled.
      retryStrategy: () => Math.max(100, opts.timeoutMs),
    });
    this.client.on('error', (err: Error) => {
      this.lastError = err.message;
    });
    this.client.connect().catch((err: Error) => {
      this.lastError = err.message;
    });
  }

  get node(): string {
    return this.opts.node;
  }

  async poll(): Promise<NodeSample> {
    const where = `${this.opts.address}:${this.opts.port}`;
    const base = { node: this.opts.node, replica: null };
    if (this.client.status !== 'ready') {
      return { ...base, at: Date.now(), failure: classify(this.lastError, where), queries: 0 };
    }
    let queries = 0;
    try {
      queries += 1;
      const info = parseReplicationInfo(await this.client.info('replication'));
      let heartbeat: number | null = null;
      let heartbeatError: string | null = null;
      if (this.opts.heartbeatKey) {
        queries += 1;
        try {
          const v = await this.client.get(this.opts.heartbeatKey);
          heartbeat = v === null ? null : Number(v);
        } catch (err) {
          heartbeatError = (err as Error).message;
        }
      }
      return {
        ...base,
        at: Date.now(),
        failure: null,
        replica: info.replica,
        offset: info.masterReplOffset,
        connectedReplicas: info.connectedReplicas,
        heartbeat,
        heartbeatError,
        queries,
      };
    } catch (err) {
      return { ...base, at: Date.now(), failure: classify((err as Error).message, where), queries };
    }
  }

  async writeHeartbeat(ts: number): Promise<void> {
    if (!this.opts.heartbeatKey) return;
    await this.client.set(this.opts.heartbeatKey, String(ts));
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
