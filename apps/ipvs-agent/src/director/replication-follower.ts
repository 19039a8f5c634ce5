import type { EventOf, FulcrumEvent, ReplicationCluster } from '@fulcrum/schemas';
import { ReplicationOverlay } from './replication.js';
import type { ZeroWeightServer } from './replication.js';

/** Where the overlay's weight-0 set goes (the Reconciler). */
export interface ZeroWeightSink {
  setLagging(servers: Iterable<ZeroWeightServer>): void;
}

/**
 * Feeds the replication overlay from the bus: replication events as they come, the status bucket's replication
 * entries at start (so an agent started after the monitor published knows the state at once), and the replication
 * clusters of the desired state; passes the weight-0 set on whenever it may have changed.
 */
export class ReplicationFollower {
  readonly overlay = new ReplicationOverlay();

  constructor(private readonly sink: ZeroWeightSink) {}

  /** A replication event, or the latest one kept in the status bucket. */
  readonly report = (e: EventOf<'replication'>): void => {
    if (this.overlay.report(e)) this.apply();
  };

  /** The events of a status-bucket read: its replication entries count, the others are ignored. */
  recall(events: Iterable<FulcrumEvent>): void {
    let changed = false;
    for (const e of events) if (e.type === 'replication' && this.overlay.report(e)) changed = true;
    if (changed) this.apply();
  }

  readonly putCluster = (c: ReplicationCluster): void => {
    this.overlay.setCluster(c);
    this.apply();
  };

  readonly deleteCluster = (id: string): void => {
    this.overlay.deleteCluster(id);
    this.apply();
  };

  private apply(): void {
    this.sink.setLagging(this.overlay.zeroWeight());
  }
}
