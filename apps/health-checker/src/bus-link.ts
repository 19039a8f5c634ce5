import { followDesiredState, openStore } from '@fulcrum/bus';
import type { Bus, GenerationBatch, GenerationWatch, Store } from '@fulcrum/bus';
import type { Logger } from '@fulcrum/runtime';
import { EVENT_SUBJECTS, makeEvent, statusBucket, statusKey, statusKeyOf } from '@fulcrum/schemas';
import type { DesiredObject, EventOf, FulcrumEvent, VirtualService } from '@fulcrum/schemas';
import type { Endpoint } from './checks/index.js';
import type { HealthReport } from './engine/engine.js';

/** Status entries are re-put this often so that they outlive the bucket's TTL while the checker runs. */
export const STATUS_REFRESH_MS = 30_000;

export interface HealthLinkOptions {
  host: string;
  logger: Logger;
  /** Virtual services from the config file; the desired state overrides an id it also has. */
  configServices: readonly VirtualService[];
  /** Also check the virtual services of the desired-state bucket. */
  followDesired: boolean;
  /** Receives the virtual services to check, each time they change. */
  onServices: (services: VirtualService[]) => void;
  refreshMs?: number;
}

/**
 * The checker's side of NATS: health events on every reported change, the latest state of each
 * real server in the status bucket (re-put before it expires, deleted when the server is no longer
 * checked), and the virtual services of the desired state (generation by generation).
 */
export class HealthLink {
  private bus: Bus | null = null;
  private status: Store<FulcrumEvent> | null = null;
  private readonly latest = new Map<string, EventOf<'health'>>();
  private refresh: NodeJS.Timeout | null = null;
  private watch: GenerationWatch<DesiredObject> | null = null;
  private readonly desired = new Map<string, VirtualService>();
  private closed = false;

  constructor(private readonly opts: HealthLinkOptions) {}

  /** Hands the configured services to the engine; call once before attach. */
  start(): void {
    this.opts.onServices(this.services());
  }

  /** Uses a connected bus: publishes what is known, and follows the desired state in the background. */
  async attach(bus: Bus): Promise<void> {
    if (this.closed) return;
    this.bus = bus;
    this.status = await openStore(bus, statusBucket).catch((err: unknown) => {
      this.opts.logger.warn({ err }, 'no status bucket: health only as events');
      return null;
    });
    this.putAll();
    this.refresh = setInterval(() => this.putAll(), this.opts.refreshMs ?? STATUS_REFRESH_MS);
    if (this.opts.followDesired) await this.followDesired(bus);
  }

  report(data: HealthReport): void {
    const event = makeEvent('health', { service: 'health-checker', host: this.opts.host }, data);
    this.latest.set(statusKeyOf(event), event);
    const log = data.state === 'down' ? this.opts.logger.warn.bind(this.opts.logger) : this.opts.logger.info.bind(this.opts.logger);
    log({ virtualService: data.virtualService, realServer: data.realServer, state: data.state, previous: data.previous }, data.reason);
    if (this.bus?.state !== 'connected') return;
    try {
      this.bus.publish(EVENT_SUBJECTS.health, { host: this.opts.host }, event);
    } catch (err) {
      this.opts.logger.warn({ err }, 'health event not published');
    }
    void this.put(event);
  }

  /** A real server no longer checked: its status entry goes, so nobody acts on a stale state. */
  removed(virtualService: string, realServer: Endpoint): void {
    const key = statusKey('health', this.opts.host, virtualService, realServer.address, String(realServer.port));
    if (!this.latest.delete(key)) return;
    this.status?.delete(key).catch((err: unknown) => this.opts.logger.debug({ err, key }, 'status entry not deleted'));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.refresh) clearInterval(this.refresh);
    this.watch?.stop();
  }

  private services(): VirtualService[] {
    const out = [...this.desired.values()];
    for (const vs of this.opts.configServices) if (!this.desired.has(vs.id)) out.push(vs);
    return out;
  }

  private putAll(): void {
    for (const e of this.latest.values()) void this.put(e);
  }

  private async put(event: EventOf<'health'>): Promise<void> {
    if (!this.status) return;
    try {
      await this.status.put(statusKeyOf(event), event);
    } catch (err) {
      this.opts.logger.debug({ err }, 'status not stored');
    }
  }

  /** The desired state generation by generation: the services of a commit change together, never half. */
  private async followDesired(bus: Bus): Promise<void> {
    const watch = await followDesiredState(bus, { keys: 'vs.>', logger: this.opts.logger });
    this.watch = watch;
    const batches = watch[Symbol.asyncIterator]();
    const take = (batch: GenerationBatch<DesiredObject>) => {
      this.desired.clear();
      for (const e of batch.state.values()) if (e.value.kind === 'virtual-service') this.desired.set(e.value.id, e.value);
      if (!this.closed) this.opts.onServices(this.services());
    };
    const first = await batches.next();
    if (first.done || this.closed) return;
    take(first.value);
    void (async () => {
      for (let next = await batches.next(); !next.done; next = await batches.next()) take(next.value);
    })().catch((err: unknown) => this.opts.logger.error({ err }, 'desired-state watch ended'));
  }
}
