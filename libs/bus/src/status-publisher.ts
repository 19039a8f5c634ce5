import type { Logger } from 'pino';
import { EVENT_SUBJECTS, statusBucket, statusKeyOf } from '@fulcrum/schemas';
import type { EventOf, EventType, FulcrumEvent, Subject } from '@fulcrum/schemas';
import type { Bus } from './bus.js';
import { openStore, type Store } from './store.js';

// What an observer (health-checker, vrrp-agent, replication-monitor) tells the others: an event on every
// change, and the latest event of each thing it observes in the status bucket, so that a service started
// later (ipvs-agent, config-api's /v1/status) knows the present without waiting for the next change.

/** Status entries are re-put this often, so that they outlive the bucket's TTL while the observer runs. */
export const STATUS_REFRESH_MS = 30_000;

export interface StatusPublisherOptions {
  host: string;
  logger: Logger;
  /** What goes on without the status bucket, for the warning, e.g. 'health only as events'. */
  withoutBucket: string;
  refreshMs?: number;
  /** Where the status goes (tests hand in a MemoryStore); the status bucket by default. */
  openStatus?: (bus: Bus) => Promise<Store<FulcrumEvent>>;
}

/**
 * The latest event of each thing observed, by status key. Before the bus is there events are only
 * remembered; `attach` stores (or publishes) what is known, and from then on each published event goes out
 * as an event and into the bucket, re-put every refreshMs, deleted when the thing is no longer observed.
 */
export class StatusPublisher<T extends EventType> {
  private bus: Bus | null = null;
  private status: Store<FulcrumEvent> | null = null;
  private readonly latest = new Map<string, EventOf<T>>();
  private refresh: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly type: T,
    private readonly opts: StatusPublisherOptions,
  ) {}

  /**
   * Uses a connected bus: opens the status bucket and stores every remembered event, also publishing them
   * when `republish` (the changes seen while NATS was away are then announced late rather than never).
   */
  async attach(bus: Bus, { republish = false } = {}): Promise<void> {
    if (this.closed) return;
    this.bus = bus;
    this.status = await (this.opts.openStatus ?? ((b: Bus) => openStore(b, statusBucket)))(bus).catch((err: unknown) => {
      this.opts.logger.warn({ err }, `no status bucket: ${this.opts.withoutBucket}`);
      return null;
    });
    if (this.closed) return;
    for (const e of this.latest.values()) {
      if (republish) this.send(e);
      void this.put(e);
    }
    this.refresh = setInterval(() => {
      for (const e of this.latest.values()) void this.put(e);
    }, this.opts.refreshMs ?? STATUS_REFRESH_MS);
    this.refresh.unref();
  }

  /** Keeps the event as the latest of its thing without announcing it (a figure that moved, not a change). */
  remember(event: EventOf<T>): void {
    this.latest.set(statusKeyOf(event), event);
  }

  /** A change: remembered, and published and stored if the bus is there. */
  publish(event: EventOf<T>): void {
    this.remember(event);
    if (this.bus?.state !== 'connected') return;
    this.send(event);
    void this.put(event);
  }

  get(key: string): EventOf<T> | undefined {
    return this.latest.get(key);
  }

  /** The thing is no longer observed: its entry goes, so that nobody acts on a stale state. */
  forget(key: string): void {
    if (!this.latest.delete(key)) return;
    this.status?.delete(key).catch((err: unknown) => this.opts.logger.debug({ err, key }, 'status entry not deleted'));
  }

  close(): void {
    this.closed = true;
    if (this.refresh) clearInterval(this.refresh);
    this.refresh = null;
  }

  private send(event: EventOf<T>): void {
    try {
      this.bus?.publish(EVENT_SUBJECTS[this.type] as Subject<EventOf<T>>, { host: this.opts.host }, event);
    } catch (err) {
      this.opts.logger.warn({ err }, `${this.type} event not published`);
    }
  }

  private async put(event: EventOf<T>): Promise<void> {
    if (!this.status) return;
    try {
      await this.status.put(statusKeyOf(event), event);
    } catch (err) {
      this.opts.logger.debug({ err }, 'status not stored');
    }
  }
}
