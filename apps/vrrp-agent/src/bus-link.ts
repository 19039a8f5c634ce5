import { followDesiredState, StatusPublisher } from '@fulcrum/bus';
import type { Bus } from '@fulcrum/bus';
import { connectServiceBusInBackground } from '@fulcrum/runtime';
import type { BackgroundBus, Service } from '@fulcrum/runtime';
import {
  EVENT_SUBJECTS,
  makeEvent,
  setSyncDaemon,
  vrrpFailover,
} from '@fulcrum/schemas';
import type { DesiredObject, VirtualService, VrrpInstance } from '@fulcrum/schemas';
import type { VrrpAgent, VrrpStateData } from './agent/agent.js';
import type { VrrpAgentConfig } from './config.js';

/**
 * The agent's side of NATS, all optional: the agent runs its inline instances without it. Connects
 * in the background and then publishes vrrp-state events and the status bucket, takes instances and
 * virtual services from the desired state, tracks health events, serves vrrp-failover, and asks
 * the local ipvs-agent to follow with the IPVS sync daemon role.
 */
export class BusLink {
  private bus: Bus | null = null;
  private background: BackgroundBus | null = null;
  private readonly status: StatusPublisher<'vrrp-state'>;
  private stopWatch: (() => void) | null = null;
  private syncRole: 'master' | 'backup' | null = null;
  private closed = false;

  constructor(
    private readonly svc: Service<VrrpAgentConfig>,
    private readonly agent: VrrpAgent,
  ) {
    this.status = new StatusPublisher('vrrp-state', { host: svc.config.host, logger: svc.logger, withoutBucket: 'state only as events' });
  }

  private get cfg(): VrrpAgentConfig {
    return this.svc.config;
  }

  /** Starts connecting; returns at once. */
  start(): void {
    this.background = connectServiceBusInBackground(this.svc, {
      attach: (bus) => this.attach(bus),
      detach: () => this.detach(),
      withoutBus: 'running the configured instances only',
    });
  }

  async close(): Promise<void> {
    if (this.background) return this.background.close();
    this.detach();
    await this.bus?.drain();
  }

  private detach(): void {
    this.closed = true;
    this.status.close();
    this.stopWatch?.();
  }

  /** Every transition: an event now if connected, and the status entry (re-put on connect). */
  onState(data: VrrpStateData): void {
    this.status.publish(makeEvent('vrrp-state', { service: 'vrrp-agent', host: this.cfg.host }, data));
    if (this.cfg.ipvsSync?.instance === data.instance) {
      this.syncRole = data.state === 'master' ? 'master' : 'backup';
      void this.requestSyncRole(data.reason);
    }
  }

  /** Uses a connected bus (start() calls it; specs hand in their own). */
  async attach(bus: Bus): Promise<void> {
    if (this.closed) return void (await bus.close());
    this.bus = bus;
    const host = this.cfg.host;
    await this.status.attach(bus);
    bus.subscribe(EVENT_SUBJECTS.health, { host }, (event) => this.agent.onHealth(event.data));
    bus.serve(vrrpFailover, { host }, (req) => this.agent.failover(req.instance, req.reason));
    if (this.syncRole) void this.requestSyncRole('bus connected');
    if (this.cfg.desiredState) void this.keepFollowing(bus);
  }

  /** The desired state, again after any failure (a missing bucket, an outage) until the stop. */
  private async keepFollowing(bus: Bus): Promise<void> {
    while (!this.closed) {
      try {
        await this.followDesiredState(bus);
      } catch (err) {
        if (this.closed) return;
        this.svc.logger.warn({ err }, 'cannot follow the desired state; retrying in 5 s');
      }
      await new Promise((r) => setTimeout(r, 5000).unref());
    }
  }

  private async requestSyncRole(reason: string): Promise<void> {
    const sync = this.cfg.ipvsSync;
    const role = this.syncRole;
    if (!sync || !role || this.bus?.state !== 'connected') return;
    const inst = this.agent.router(sync.instance)?.spec.instance;
    const iface = sync.interface ?? inst?.interface;
    if (!iface) return;
    try {
      const reply = await this.bus.request(setSyncDaemon, { host: this.cfg.host }, { role, interface: iface, syncId: sync.syncId, reason: reason.slice(0, 500) });
      this.svc.logger.info({ role, reply }, 'IPVS sync daemon role requested');
    } catch (err) {
      this.svc.logger.warn({ err, role }, 'ipvs-agent did not take the sync daemon role');
    }
  }

  /** Generation by generation: an instance and the services it tracks arrive together, never half a commit. */
  private async followDesiredState(bus: Bus): Promise<void> {
    const watch = await followDesiredState(bus, { keys: ['vrrp.>', 'vs.>'], logger: this.svc.logger });
    this.stopWatch = () => watch.stop();
    for await (const batch of watch) {
      await this.reconcile(new Map([...batch.state].map(([key, e]) => [key, e.value])));
    }
  }

  private async reconcile(objects: ReadonlyMap<string, DesiredObject>): Promise<void> {
    if (this.closed) return;
    const fromKv = [...objects.values()].filter((o): o is VrrpInstance => o.kind === 'vrrp-instance');
    const ids = new Set(fromKv.map((i) => i.id));
    const instances = [...fromKv, ...this.cfg.instances.filter((i) => !ids.has(i.id))];
    const services = [...objects.values()].filter((o): o is VirtualService => o.kind === 'virtual-service');
    this.agent.setVirtualServices(services);
    const refused = await this.agent.apply(instances);
    for (const r of refused) this.svc.logger.error(r, 'desired VRRP instance not run');
  }
}
