// Replication mode's feed from NATS: the cluster object from the desired state (for the nodes' addresses), the
// replication-monitor's status entries at start (so a proxy started after the monitor reported knows the master
// at once), then its `replication` events as they come; the status again after each reconnect, for a change
// reported while this connection was away (events are not kept for absent subscribers).
import { setTimeout as sleep } from 'node:timers/promises';
import { followDesiredState, openStore } from '@fulcrum/bus';
import type { Bus, BusSubscription, GenerationWatch } from '@fulcrum/bus';
import type { Logger } from '@fulcrum/runtime';
import { EVENT_SUBJECTS, desiredKey, statusBucket } from '@fulcrum/schemas';
import type { DesiredObject } from '@fulcrum/schemas';
import type { ReplicationFeed, ReplicationSink } from './replication-master.js';

/** Between attempts at a status read or desired-state watch that failed (NATS slow or away, no bucket yet). */
const RETRY_MS = 2000;

export class BusReplicationFeed implements ReplicationFeed {
  private sub: BusSubscription | null = null;
  private watch: GenerationWatch<DesiredObject> | null = null;
  private offState: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly bus: Bus,
    private readonly clusterId: string,
    private readonly logger: Logger,
    private readonly retryMs = RETRY_MS,
  ) {}

  start(sink: ReplicationSink): void {
    // Subscribed before the status read, so nothing published in between is missed (the newest report wins).
    this.sub = this.bus.subscribe(EVENT_SUBJECTS.replication, {}, (e) => sink.report(e));
    void this.retrying('status bucket read', () => this.readStatus(sink));
    void this.retrying('desired-state watch', () => this.followCluster(sink));
    let away = false;
    this.offState = this.bus.onStateChange((e) => {
      if (e.state === 'disconnected') away = true;
      else if (e.state === 'connected' && away) {
        away = false;
        void this.retrying('status bucket read after a reconnect', () => this.readStatus(sink));
      }
    });
  }

  close(): void {
    this.closed = true;
    this.offState?.();
    this.sub?.unsubscribe();
    this.watch?.stop();
  }

  private async retrying(what: string, attempt: () => Promise<void>): Promise<void> {
    for (let n = 1; !this.closed; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (this.closed) return;
        this.logger.warn({ err, attempt: n, cluster: this.clusterId }, `${what} failed; retrying`);
        await sleep(this.retryMs);
      }
    }
  }

  private async readStatus(sink: ReplicationSink): Promise<void> {
    const status = await openStore(this.bus, statusBucket);
    const snap = await status.readAll();
    for (const { value } of snap.entries.values()) if (value.type === 'replication') sink.report(value);
  }

  /** The cluster object, then each commit that changes it (a delete makes it unknown again). */
  private async followCluster(sink: ReplicationSink): Promise<void> {
    const key = desiredKey('replication-cluster', this.clusterId);
    const watch = await followDesiredState(this.bus, { keys: key, logger: this.logger });
    if (this.closed) return watch.stop();
    const batches = watch[Symbol.asyncIterator]();
    const take = (state: ReadonlyMap<string, { value: DesiredObject }>) => {
      const v = state.get(key)?.value;
      sink.cluster(v?.kind === 'replication-cluster' ? v : null);
    };
    let first;
    try {
      first = await batches.next();
    } catch (err) {
      watch.stop();
      throw err;
    }
    if (first.done || this.closed) return watch.stop();
    this.watch = watch;
    take(first.value.state);
    void (async () => {
      for (let next = await batches.next(); !next.done; next = await batches.next()) take(next.value.state);
    })().catch((err: unknown) => this.logger.error({ err, cluster: this.clusterId }, 'desired-state watch ended'));
  }
}
