import { setTimeout as sleep } from 'node:timers/promises';
import { BusError, followDesiredState, openStore, StatusPublisher } from '@fulcrum/bus';
import type { Bus, BusSubscription, GenerationBatch, GenerationWatch, Store } from '@fulcrum/bus';
import type { IpvsControl } from '@fulcrum/netlink';
import type { Logger } from '@fulcrum/runtime';
import type { DesiredObject, EventDataInput, FulcrumEvent, ReplicationCluster, VirtualService } from '@fulcrum/schemas';
import {
  EVENT_SUBJECTS,
  desiredKeyFilter,
  drainRealServer,
  enableRealServer,
  makeEvent,
  parseDesiredKey,
  setSyncDaemon,
  statusBucket,
} from '@fulcrum/schemas';
import type { Reconciler } from './director/reconciler.js';
import { ReplicationFollower } from './director/replication-follower.js';
import { setSyncDaemonRole } from './director/sync-daemon.js';

// ipvs-agent's side of NATS. The desired state: one full read, then each commit whole (followDesiredState; it
// resumes by itself after a reconnect, so changes made while NATS was away arrive then).
// While NATS is away nothing here touches the kernel: the table stays as it is.

const VS_KEYS = desiredKeyFilter('virtual-service');

/**
 * Runs `attach` until it succeeds: NATS may be slow or away at start (a KV read that times out),
 * and the kernel table is left as it is meanwhile. Gives up only when `stopped()` says so.
 */
export async function attachRetrying<T>(what: string, logger: Logger, intervalMs: number, stopped: () => boolean, attach: () => Promise<T>): Promise<T | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await attach();
    } catch (err) {
      if (!(err instanceof BusError) || stopped()) throw err;
      logger.warn({ err, attempt, retryInSeconds: intervalMs / 1000 }, `${what} failed; retrying`);
      await sleep(intervalMs);
      if (stopped()) return null;
    }
  }
}

/**
 * Follows the virtual services of the desired state generation by generation (a commit is seen whole):
 * `onAll` with the snapshot, then the changes of each commit together (passes are coalesced).
 */
export async function followVirtualServices(
  bus: Bus,
  logger: Logger,
  handlers: {
    onAll: (services: VirtualService[], revision: number) => Promise<unknown> | void;
    onPut: (vs: VirtualService, revision: number) => void;
    onDelete: (id: string, revision: number) => void;
    /** Also follow the replication clusters (their read pools get the lag overlay); given before onAll. */
    replication?: { onPut: (cluster: ReplicationCluster) => void; onDelete: (id: string) => void };
  },
): Promise<{ stop(): void }> {
  const replication = handlers.replication;
  const keys = replication ? [VS_KEYS, desiredKeyFilter('replication-cluster')] : VS_KEYS;
  const watch: GenerationWatch<DesiredObject> = await followDesiredState(bus, { keys, logger });
  const batches = watch[Symbol.asyncIterator]();
  let first: IteratorResult<GenerationBatch<DesiredObject>>;
  try {
    first = await batches.next();
  } catch (err) {
    watch.stop();
    throw err;
  }
  if (first.done) throw new BusError('the desired-state watch ended before its first read');
  const snap = first.value;
  const objects = [...snap.state.values()].map((e) => e.value);
  if (replication) for (const o of objects) if (o.kind === 'replication-cluster') replication.onPut(o);
  await handlers.onAll(objects.filter((v): v is VirtualService => v.kind === 'virtual-service'), snap.revision);
  void (async () => {
    for (let next = await batches.next(); !next.done; next = await batches.next()) {
      for (const change of next.value.changes) {
        const parsed = parseDesiredKey(change.key);
        if (parsed?.kind === 'replication-cluster' && replication) {
          if (change.op === 'put' && change.value.kind === 'replication-cluster') replication.onPut(change.value);
          else if (change.op === 'delete') replication.onDelete(parsed.id);
          continue;
        }
        if (parsed?.kind !== 'virtual-service') continue;
        if (change.op === 'put' && change.value.kind === 'virtual-service') handlers.onPut(change.value, change.revision);
        else if (change.op === 'delete') handlers.onDelete(parsed.id, change.revision);
      }
    }
  })().catch((err: unknown) => logger.error({ err }, 'desired-state watch ended'));
  return { stop: () => watch.stop() };
}

export interface DirectorLinkOptions {
  bus: Bus;
  host: string;
  logger: Logger;
  reconciler: Reconciler;
  ipvs: IpvsControl;
}

/**
 * Wires the director: desired state, health events and status, replication events (lag overlay),
 * drain/enable and sync-daemon commands.
 */
export async function attachDirector(o: DirectorLinkOptions): Promise<{ close(): void }> {
  const { bus, host, logger, reconciler } = o;
  const subs: BusSubscription[] = [];
  const tokens = { host };
  // Replication monitors run on data hosts: their events come from any host. Subscribed before the status read,
  // so nothing published in between is missed (the overlay keeps the newest of the two).
  const replication = new ReplicationFollower(reconciler);
  subs.push(bus.subscribe(EVENT_SUBJECTS.replication, {}, replication.report));
  // Health first, so the first pass already knows which real servers are down.
  subs.push(
    bus.subscribe(EVENT_SUBJECTS.health, tokens, (e) => {
      const d = e.data;
      reconciler.setHealth(d.virtualService, d.realServer.address, d.realServer.port, { state: d.state, weight: d.weight });
    }),
  );
  try {
    const status: Store<FulcrumEvent> = await openStore(bus, statusBucket);
    const snap = await status.readAll();
    replication.recall([...snap.entries.values()].map((entry) => entry.value));
    for (const [key, entry] of snap.entries) {
      const e = entry.value;
      if (!key.startsWith(`health.${host}.`) || e.type !== 'health') continue;
      reconciler.setHealth(e.data.virtualService, e.data.realServer.address, e.data.realServer.port, { state: e.data.state, weight: e.data.weight });
    }
  } catch (err) {
    logger.warn({ err }, 'no status bucket: health and replication known from new events only');
  }
  subs.push(bus.serve(drainRealServer, tokens, (req) => reconciler.drain(req)));
  subs.push(bus.serve(enableRealServer, tokens, (req) => reconciler.enable(req)));
  subs.push(
    bus.serve(setSyncDaemon, tokens, async (req) => {
      const reply = await setSyncDaemonRole(o.ipvs, req);
      logger.info({ role: req.role, reason: req.reason, reply }, 'sync daemon request');
      return reply;
    }),
  );
  const follow = await followVirtualServices(bus, logger, {
    onAll: (services, revision) => reconciler.setDesired(services, revision),
    onPut: (vs, revision) => reconciler.putService(vs, revision),
    onDelete: (id, revision) => reconciler.deleteService(id, revision),
    replication: { onPut: replication.putCluster, onDelete: replication.deleteCluster },
  });
  return {
    close: () => {
      follow.stop();
      for (const s of subs) s.unsubscribe();
    },
  };
}

/**
 * The ipvs-applied publisher: an event per pass, and the last pass in the status bucket (config-api's
 * /v1/status shows it as the kernel's view). A bus that is down loses the event (logged), never the pass.
 */
export function appliedPublisher(bus: Bus, host: string, logger: Logger): ((data: EventDataInput<'ipvs-applied'>) => void) & { close(): void } {
  const status = new StatusPublisher('ipvs-applied', { host, logger, withoutBucket: 'passes only as events' });
  void status.attach(bus);
  const publish = (data: EventDataInput<'ipvs-applied'>) => status.publish(makeEvent('ipvs-applied', { service: 'ipvs-agent', host }, data));
  return Object.assign(publish, { close: () => status.close() });
}
