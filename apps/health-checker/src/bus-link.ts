import { followDesiredState, StatusPublisher } from '@fulcrum/bus';
import type { Bus, GenerationBatch, GenerationWatch } from '@fulcrum/bus';
import type { Logger } from '@fulcrum/runtime';
import { makeEvent, statusKey } from '@fulcrum/schemas';
import type { DesiredObject, VirtualService } from '@fulcrum/schemas';
import type { Endpoint } from './checks/index.js';
import type { HealthReport } from './engine/engine.js';

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
  private readonly status: StatusPublisher<'health'>;
  private watch: GenerationWatch<DesiredObject> | null = null;
  private readonly desired = new Map<string, VirtualService>();
  private closed = false;

  constructor(private readonly opts: HealthLinkOptions) {
    this.status = new StatusPublisher('health', {
      host: opts.host,
      logger: opts.logger,
      withoutBucket: 'health only as events',
      ...(opts.refreshMs !== undefined ? { refreshMs: opts.refreshMs } : {}),
    });
  }

  /** Hands the configured services to the engine; call once before attach. */
  start(): void {
    this.opts.onServices(this.services());
  }

  /** Uses a connected bus: publishes what is known, and follows the desired state in the background. */
  async attach(bus: Bus): Promise<void> {
    if (this.closed) return;
    await this.status.attach(bus);
    if (this.opts.followDesired) await this.followDesired(bus);
  }

  report(data: HealthReport): void {
    const log = data.state === 'down' ? this.opts.logger.warn.bind(this.opts.logger) : this.opts.logger.info.bind(this.opts.logger);
    log({ virtualService: data.virtualService, realServer: data.realServer, state: data.state, previous: data.previous }, data.reason);
    this.status.publish(makeEvent('health', { service: 'health-checker', host: this.opts.host }, data));
  }

  /** A real server no longer checked: its status entry goes, so nobody acts on a stale state. */
  removed(virtualService: string, realServer: Endpoint): void {
    this.status.forget(statusKey('health', this.opts.host, virtualService, realServer.address, String(realServer.port)));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.status.close();
    this.watch?.stop();
  }

  private services(): VirtualService[] {
    const out = [...this.desired.values()];
    for (const vs of this.opts.configServices) if (!this.desired.has(vs.id)) out.push(vs);
    return out;
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
