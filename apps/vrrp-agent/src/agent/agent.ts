import { isIP } from 'node:net';
import type { AddressControl, ArpAnnouncer, VrrpSocket } from '@fulcrum/netlink';
import type { CommandReply, EventData, VirtualService, VrrpInstance as VrrpInstanceSpec } from '@fulcrum/schemas';
import { errorReply, okReply } from '@fulcrum/schemas';
import { decodePacket, syncGroupDecision } from '@fulcrum/vrrp';
import type { VrrpClock, VrrpStep } from '@fulcrum/vrrp';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createAgentMetrics } from './metrics.js';
import type { AgentMetrics } from './metrics.js';
import { VrrpRouter } from './router.js';
import { serialized } from './serial.js';
import type { AnnounceConfig } from './router.js';
import { ScriptTracker } from './tracking.js';
import { VirtualServiceHealth } from './virtual-services.js';

/** The kernel as the agent uses it; the real one is @fulcrum/netlink, specs pass doubles. */
export interface AgentKernel {
  /** For the virtual addresses. */
  readonly addresses: AddressControl;
  /** For polling link states; a second handle so that polls never wait for, or delay, address changes. */
  readonly linkStates?: AddressControl;
  openChannel(opts: { interface: string; unicast: boolean }): VrrpSocket;
  openAnnouncer(iface: string): ArpAnnouncer;
}

export type VrrpStateData = EventData<'vrrp-state'>;

export interface AgentOptions {
  readonly host: string;
  readonly kernel: AgentKernel;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly announce: AnnounceConfig;
  /** How often link states are read. */
  readonly linkPollMs: number;
  readonly clock?: VrrpClock;
  /** Every transition, as the vrrp-state event carries it. */
  readonly onState?: (data: VrrpStateData) => void;
}

interface Channel {
  readonly key: string;
  readonly socket: VrrpSocket;
  readonly routers: Map<number, VrrpRouter>;
  loop: Promise<void>;
  closed: boolean;
}

export interface InstanceStatus {
  readonly instance: string;
  readonly state: string;
  readonly priority: number;
  readonly master: string | null;
}

/**
 * The instances of this host: one VrrpRouter each, one raw socket per interface (adverts are
 * matched to instances by VRID), the link poller, tracked scripts and virtual services, sync groups.
 */
export class VrrpAgent {
  readonly metrics: AgentMetrics;
  private readonly routers = new Map<string, VrrpRouter>();
  private readonly channels = new Map<string, Channel>();
  private readonly announcers = new Map<string, ArpAnnouncer>();
  private readonly scripts = new Map<string, ScriptTracker[]>();
  readonly virtualServices = new VirtualServiceHealth();
  private readonly clock: VrrpClock;
  private linkTimer: NodeJS.Timeout | null = null;
  private links = new Map<string, boolean>();
  private syncing = false;
  private syncAgain = false;
  private stopped = false;

  private readonly addresses: AddressControl;
  private readonly linkStates: AddressControl;

  constructor(private readonly opts: AgentOptions) {
    this.metrics = createAgentMetrics(opts.registry);
    this.addresses = serialized(opts.kernel.addresses);
    this.linkStates = opts.kernel.linkStates ? serialized(opts.kernel.linkStates) : this.addresses;
    this.clock = opts.clock ?? { now: () => performance.now() };
  }

  get instances(): string[] {
    return [...this.routers.keys()];
  }

  status(): InstanceStatus[] {
    return [...this.routers.values()].map((r) => ({
      instance: r.id,
      state: r.state,
      priority: r.vrrp.effectivePriority,
      master: r.state === 'master' ? r.spec.primaryAddress : r.vrrp.masterAddress,
    }));
  }

  router(id: string): VrrpRouter | undefined {
    return this.routers.get(id);
  }

  /**
   * Makes the running instances those of `instances` that list this host: new ones start, removed
   * ones stop gracefully, changed ones restart. Returns the ids that could not run, with why.
   */
  async apply(instances: readonly VrrpInstanceSpec[]): Promise<{ id: string; why: string }[]> {
    const mine = instances.filter((i) => i.priorities[this.opts.host] !== undefined);
    const wanted = new Map(mine.map((i) => [i.id, i]));
    const refused: { id: string; why: string }[] = [];
    for (const [id, r] of this.routers) {
      const next = wanted.get(id);
      if (next && JSON.stringify(next) === JSON.stringify(r.spec.instance)) continue;
      await this.remove(id, next ? 'configuration changed' : 'instance removed from the configuration');
    }
    await this.pollLinks();
    for (const inst of mine) {
      if (this.routers.has(inst.id)) continue;
      try {
        await this.add(inst);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        refused.push({ id: inst.id, why });
        this.opts.logger.error({ instance: inst.id, err }, 'cannot run VRRP instance');
      }
    }
    this.linkTimer ??= setInterval(() => void this.pollLinks(), this.opts.linkPollMs);
    return refused;
  }

  private async primaryAddress(inst: VrrpInstanceSpec): Promise<string> {
    const vips = new Set([...this.routers.values()].flatMap((r) => r.vips.map((v) => v.address)).concat(inst.virtualAddresses.map((v) => v.address)));
    const addrs = await this.addresses.addresses(inst.interface);
    const primary = addrs.find((a) => a.family === 'inet' && !vips.has(a.address));
    if (!primary) throw new Error(`interface ${inst.interface} has no IPv4 address to send the adverts of ${inst.id} from`);
    return primary.address;
  }

  private async add(inst: VrrpInstanceSpec): Promise<void> {
    if (inst.virtualAddresses.some((v) => isIP(v.address) === 6)) {
      throw new Error(`${inst.id}: IPv6 virtual addresses (VRRPv3 over IPv6) are not supported by this agent yet`);
    }
    const unicast = inst.unicastPeers.length > 0;
    const channel = this.channel(inst.interface, unicast);
    const clash = channel.routers.get(inst.virtualRouterId);
    if (clash) throw new Error(`${inst.id}: VRID ${inst.virtualRouterId} on ${inst.interface} is already used by ${clash.id}`);
    const primaryAddress = await this.primaryAddress(inst);
    const router = new VrrpRouter(
      { instance: inst, host: this.opts.host, primaryAddress },
      {
        io: {
          send: (packet, to) => channel.socket.send(packet, to),
          addresses: this.addresses,
          announcer: (iface) => this.announcer(iface),
        },
        hooks: {
          transition: (r, t) => this.onTransition(r, t),
          stepped: (r) => this.onStepped(r),
        },
        clock: this.clock,
        logger: this.opts.logger,
        metrics: this.metrics,
        announce: this.opts.announce,
      },
    );
    this.routers.set(inst.id, router);
    channel.routers.set(inst.virtualRouterId, router);
    // Tracked objects first, so that a down link or failing script starts the instance in fault.
    this.trackLinks(router);
    for (const t of inst.trackVirtualServices) {
      router.setTracked(`virtual service ${t.virtualService}`, { ok: this.virtualServices.isUp(t.virtualService), weight: t.weight }, `virtual service ${t.virtualService}`);
    }
    const trackers = inst.trackScripts.map((s) => {
      const source = `script ${s.name}`;
      const tracker = new ScriptTracker(s, (ok, why) => router.setTracked(source, { ok, weight: s.weight, reverse: s.reverse }, why));
      router.setTracked(source, { ok: tracker.ok, weight: s.weight, reverse: s.reverse }, `script ${s.name} initial state`);
      return tracker;
    });
    this.scripts.set(inst.id, trackers);
    router.start();
    for (const t of trackers) t.start();
  }

  private async remove(id: string, why: string): Promise<void> {
    const r = this.routers.get(id);
    if (!r) return;
    for (const t of this.scripts.get(id) ?? []) t.stop();
    this.scripts.delete(id);
    await r.stop(why);
    this.routers.delete(id);
    for (const ch of this.channels.values()) {
      if (ch.routers.get(r.spec.instance.virtualRouterId) === r) ch.routers.delete(r.spec.instance.virtualRouterId);
    }
    this.onStepped(r);
  }

  private channel(iface: string, unicast: boolean): Channel {
    const key = `${iface}/${unicast ? 'unicast' : 'multicast'}`;
    const existing = this.channels.get(key);
    if (existing) return existing;
    const socket = this.opts.kernel.openChannel({ interface: iface, unicast });
    const ch: Channel = { key, socket, routers: new Map(), loop: Promise.resolve(), closed: false };
    ch.loop = this.receiveLoop(ch, unicast);
    this.channels.set(key, ch);
    return ch;
  }

  private async receiveLoop(ch: Channel, unicast: boolean): Promise<void> {
    while (!ch.closed) {
      const bytes = await ch.socket.receive();
      if (bytes) this.dispatch(ch, bytes, unicast);
    }
  }

  /** Never throws: a packet that breaks anything is counted and dropped. */
  private dispatch(ch: Channel, bytes: Buffer, unicast: boolean): void {
    const iface = ch.socket.interface;
    try {
      const r = decodePacket(bytes, { family: 'ipv4', hasIpHeader: true, unicast });
      if (!r.ok) {
        this.metrics.packetsDropped.inc({ interface: iface, reason: r.reason });
        this.opts.logger.debug({ interface: iface, reason: r.reason, detail: r.detail }, 'packet dropped');
        return;
      }
      const router = ch.routers.get(r.advert.vrid);
      if (!router) {
        this.metrics.packetsDropped.inc({ interface: iface, reason: 'vrid' });
        return;
      }
      router.receive(r.advert, r.packet);
    } catch (err) {
      this.metrics.packetsDropped.inc({ interface: iface, reason: 'error' });
      this.opts.logger.error({ err, interface: iface }, 'packet handling failed; dropped');
    }
  }

  private announcer(iface: string): ArpAnnouncer {
    let a = this.announcers.get(iface);
    if (!a) {
      a = this.opts.kernel.openAnnouncer(iface);
      this.announcers.set(iface, a);
    }
    return a;
  }

  private trackLinks(r: VrrpRouter): void {
    const inst = r.spec.instance;
    const own = this.links.get(inst.interface) ?? false;
    r.setTracked(`interface ${inst.interface}`, { ok: own, weight: 0 }, `interface ${inst.interface} is ${own ? 'up' : 'down'}`);
    for (const t of inst.trackInterfaces) {
      const up = this.links.get(t.interface) ?? false;
      r.setTracked(`interface ${t.interface}`, { ok: up, weight: t.weight }, `interface ${t.interface} is ${up ? 'up' : 'down'}`);
    }
  }

  private async pollLinks(): Promise<void> {
    if (this.stopped) return;
    try {
      const links = await this.linkStates.links();
      this.links = new Map(links.map((l) => [l.name, l.up]));
    } catch (err) {
      this.opts.logger.warn({ err }, 'cannot read link states');
      return;
    }
    for (const r of this.routers.values()) if (!r.stopping) this.trackLinks(r);
  }

  /** A health event from the health-checker: tracked virtual services may change state. */
  onHealth(data: EventData<'health'>): void {
    const changed = this.virtualServices.onHealth(data);
    if (changed) this.virtualServicesChanged([changed]);
  }

  /** The desired virtual services (their real servers and quorum), from the KV store. */
  setVirtualServices(services: readonly VirtualService[]): void {
    this.virtualServicesChanged(this.virtualServices.setServices(services));
  }

  private virtualServicesChanged(ids: readonly string[]): void {
    for (const r of this.routers.values()) {
      for (const t of r.spec.instance.trackVirtualServices) {
        if (!ids.includes(t.virtualService)) continue;
        const up = this.virtualServices.isUp(t.virtualService);
        r.setTracked(`virtual service ${t.virtualService}`, { ok: up, weight: t.weight }, `virtual service ${t.virtualService} is ${up ? 'up' : 'down (below quorum)'}`);
      }
    }
  }

  /** The vrrp-failover command: a master hands over (priority 0) and comes back as backup. */
  failover(id: string, reason: string | undefined): CommandReply {
    const r = this.routers.get(id);
    if (!r) return errorReply('NOT_FOUND', `VRRP instance ${id} is not running on ${this.opts.host}`);
    if (r.state !== 'master') return errorReply('CONFLICT', `VRRP instance ${id} is ${r.state} here, not master`);
    const why = `failover requested${reason ? `: ${reason}` : ''}`;
    r.step({ type: 'shutdown', why });
    r.step({ type: 'startup', why });
    return okReply(`${id} handed over; now ${r.state}`);
  }

  private onTransition(r: VrrpRouter, t: NonNullable<VrrpStep['transition']>): void {
    const to = r.stopping && t.to === 'initialize' ? 'stopped' : t.to;
    const priority = t.to === 'initialize' ? 0 : r.vrrp.effectivePriority;
    this.opts.onState?.({ instance: r.id, state: to, previous: t.from, priority, reason: t.why.slice(0, 500) });
  }

  /** Sync groups: after any member moves, the group decides for all its members. */
  private onStepped(_r: VrrpRouter): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    try {
      for (let round = 0; round < 10; round += 1) {
        this.syncAgain = false;
        const groups = new Map<string, VrrpRouter[]>();
        for (const r of this.routers.values()) {
          const g = r.spec.instance.syncGroup;
          if (g !== undefined && !r.stopping) groups.set(g, [...(groups.get(g) ?? []), r]);
        }
        for (const members of groups.values()) {
          const decision = syncGroupDecision(members.map((m) => ({ name: m.id, state: m.state, wantsMaster: m.vrrp.wantsMaster })));
          for (const move of decision.moves) this.routers.get(move.name)?.step({ type: 'syncGroup', to: move.to, why: move.why });
        }
        if (!this.syncAgain) break;
      }
    } finally {
      this.syncing = false;
    }
  }

  /** Stops every instance gracefully (priority 0, addresses removed), then closes the sockets. */
  async stop(why: string): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.linkTimer) clearInterval(this.linkTimer);
    for (const trackers of this.scripts.values()) for (const t of trackers) t.stop();
    await Promise.all([...this.routers.values()].map((r) => r.stop(why)));
    for (const ch of this.channels.values()) ch.closed = true;
    await Promise.all([...this.channels.values()].map(async (ch) => {
      await ch.socket.close();
      await ch.loop;
    }));
    for (const a of this.announcers.values()) a.close();
  }
}
