// Composition: the upstream pool, the RESP server, events on upstream changes, readiness.
import { StatusPublisher } from '@fulcrum/bus';
import type { Bus } from '@fulcrum/bus';
import type { Service } from '@fulcrum/runtime';
import { makeEvent, type SessionStore } from '@fulcrum/schemas';
import type { SessionStoreProxyConfig } from './config.js';
import { SessionProxy } from './proxy.js';
import { BusReplicationFeed } from './replication-feed.js';
import { type MasterAddress, UpstreamConfigError, UpstreamPool } from './upstream.js';

export interface StartedProxy {
  proxy: SessionProxy;
  pool: UpstreamPool;
  port: number;
}

/**
 * Starts the proxy for the configured store; /readyz then requires the upstream master (`upstream`). Replication
 * mode needs the bus: the master is the one the replication-monitor reports.
 */
export async function startSessionStoreProxy(svc: Service<SessionStoreProxyConfig>, bus: Bus | null): Promise<StartedProxy | null> {
  const { store, proxy: settings, host } = svc.config;
  const log = svc.logger.child({ component: 'proxy' });
  if (!store) {
    // Nothing to serve yet (e.g. the example config): the service runs, says so, and listens on nothing.
    log.warn({}, 'no store in the configuration: not listening');
    return null;
  }
  const u = store.upstream;
  if (u.mode === 'replication' && !bus) {
    throw new UpstreamConfigError(`store.upstream.mode replication (cluster "${u.replicationCluster}") needs NATS (nats.servers): the master is the one the replication-monitor reports there`);
  }
  const replicationFeed = u.mode === 'replication' && bus ? new BusReplicationFeed(bus, u.replicationCluster, svc.logger.child({ component: 'replication' })) : undefined;
  const pool = new UpstreamPool({
    upstream: u,
    username: store.username,
    password: store.password,
    database: store.database,
    commandTimeoutMs: settings.commandTimeoutMs,
    replicationFeed,
  });
  svc.onStop('upstream', () => pool.close());
  const proxy = new SessionProxy({
    pool,
    allowedCommands: store.allowedCommands,
    keyPrefix: settings.keyPrefix,
    maxTtlSeconds: settings.maxTtlSeconds,
    clientPassword: store.clientPassword ?? null,
    durable: settings.durable,
    durableTimeoutMs: settings.durableTimeoutMs,
    limits: { maxBulkBytes: settings.maxBulkBytes, maxArgs: settings.maxArgs, maxLineBytes: 64 * 1024 },
    partialTimeoutMs: settings.partialTimeoutMs,
    idleTimeoutMs: settings.idleTimeoutMs,
    maxPendingReplies: settings.maxPendingReplies,
    maxClients: settings.maxClients,
    registry: svc.registry,
    logger: log,
  });
  // Upstream changes as events, and the latest in the status bucket (config-api's /v1/status).
  const status = bus ? new StatusPublisher('session-store', { host, logger: log, withoutBucket: 'upstream changes only as events' }) : null;
  if (status && bus) {
    void status.attach(bus);
    svc.onStop('session-store status', () => status.close());
  }
  const publish = (state: 'ok' | 'down', master: MasterAddress | null, message: string) => {
    const data = { store: store.id, state, master, clients: proxy.sessions.size, message };
    status?.publish(makeEvent('session-store', { service: 'session-store-proxy', host }, data));
  };
  pool.on('master', (m: MasterAddress, previous: MasterAddress | null) => {
    const changed = previous !== null && (previous.address !== m.address || previous.port !== m.port);
    const message = changed ? `master changed from ${previous.address}:${previous.port}` : 'connected to the master';
    log.info({ master: m, previous }, message);
    publish('ok', m, message);
  });
  pool.on('down', (reason: string) => {
    log.warn({ master: pool.master }, reason);
    publish('down', null, reason);
  });
  svc.addReadinessCheck('upstream', () => pool.connected);
  const port = Number(await proxy.listen({ host: store.listen.address, port: store.listen.port }));
  if (settings.unixSocket) await proxy.listen({ path: settings.unixSocket });
  svc.onStop('proxy', () => proxy.close());
  log.info({ listen: { ...store.listen, port }, upstream: describe(store) }, 'session-store proxy listening');
  return { proxy, pool, port };
}

function describe(store: SessionStore): string {
  const u = store.upstream;
  if (u.mode === 'direct') return `${u.master.address}:${u.master.port}`;
  return u.mode === 'sentinel' ? `sentinel ${u.masterName}` : `the master replication-monitor reports for cluster ${u.replicationCluster}`;
}
