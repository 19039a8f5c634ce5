// Starts the proxy in-process in front of given upstreams, for specs and the benchmark.
import { Registry } from 'prom-client';
import type { SessionUpstream } from '@fulcrum/schemas';
import { DEFAULT_SESSION_COMMANDS } from '@fulcrum/schemas';
import { SessionProxy, type ProxyOptions } from '../proxy.js';
import type { ReplicationFeed } from '../replication-master.js';
import { DEFAULT_LIMITS } from '../resp.js';
import { UpstreamPool } from '../upstream.js';

export interface TestProxy {
  proxy: SessionProxy;
  pool: UpstreamPool;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Every command the session managers, locks and transactions use. */
export const SESSION_TEST_COMMANDS = [...new Set([...DEFAULT_SESSION_COMMANDS, 'HINCRBY', 'EVAL', 'EVALSHA', 'INCR'])];

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };

export async function startTestProxy(
  upstream: SessionUpstream,
  opts: Partial<Omit<ProxyOptions, 'pool' | 'registry'>> & {
    upstreamPassword?: string;
    commandTimeoutMs?: number;
    port?: number;
    /** Replication mode: where the replication-monitor's word comes from. */
    replicationFeed?: ReplicationFeed;
  } = {},
): Promise<TestProxy> {
  const pool = new UpstreamPool({
    upstream,
    password: opts.upstreamPassword,
    database: 0,
    commandTimeoutMs: opts.commandTimeoutMs ?? 5000,
    replicationFeed: opts.replicationFeed,
  });
  const proxy = new SessionProxy({
    pool,
    allowedCommands: SESSION_TEST_COMMANDS,
    keyPrefix: '',
    maxTtlSeconds: 86400,
    clientPassword: null,
    durable: false,
    durableTimeoutMs: 1000,
    limits: DEFAULT_LIMITS,
    partialTimeoutMs: 10_000,
    idleTimeoutMs: 0,
    maxPendingReplies: 256,
    maxClients: 1000,
    logger: quiet,
    ...opts,
    registry: new Registry(),
  });
  const port = Number(await proxy.listen({ host: '127.0.0.1', port: opts.port ?? 0 }));
  return {
    proxy,
    pool,
    port,
    url: `redis://127.0.0.1:${port}`,
    async close() {
      await proxy.close();
      await pool.close();
    },
  };
}

export { type WriteLoop, type WriteLoopResult, startWriteLoop } from './write-loop.js';
