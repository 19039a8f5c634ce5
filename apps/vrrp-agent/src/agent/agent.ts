import { isIP } from 'node:net';
import type { AddressControl, ArpAnnouncer, LinkStatus, LinkWatch, ReceivedPacket, VrrpSocket } from '@fulcrum/netlink';
import type { CommandReply, EventData, VirtualService, VrrpInstance as VrrpInstanceSpec } from '@fulcrum/schemas';
import { errorReply, okReply } from '@fulcrum/schemas';
import { decodePacket, syncGroupDecision } from '@fulcrum/vrrp';
import type { AddressFamily, DecodeContext, VrrpClock, VrrpStep } from '@fulcrum/vrrp';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { describeService, frontedServices } from './data-plane.js';
import type { DataPlane } from './data-plane.js';
import { createAgentMetrics } from './metrics.js';
import type { AgentMetrics } from './metrics.js';
import { VrrpRouter } from './router.js';
import { serialized } from './serial.js';
import type { AnnounceConfig } from './router.js';
import { sourceAddress } from './source-address.js';
import type { SourceAddress } from './source-address.js';
import { ScriptTracker } from './tracking.js';
import { VirtualServiceHealth } from './virtual-services.js';

/** The kernel as the agent uses it; the real one is @fulcrum/netlink, specs pass doubles. */
export interface AgentKernel {
  /** For the virtual addresses. */
  readonly addresses: AddressControl;
  /** Link states (administrative and carrier), followed as the kernel reports changes. */
  readonly links: LinkWatch;
  openChannel(opts: { interface: string; unicast: boolean; family: AddressFamily }): VrrpSocket;
  /** Gratuitous ARP (IPv4) and unsolicited neighbour advertisements (IPv6) on one interface. */
  openAnnouncer(iface: string): ArpAnnouncer;
}

export type VrrpStateData = EventData<'vrrp-state'>;

export interface AgentOptions {
  readonly host: string;
  readonly kernel: AgentKernel;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly announce: AnnounceConfig;
  readonly clock?: VrrpClock;
  /** Every transition, as the vrrp-state event carries it. */
  readonly onState?: (data: VrrpStateData) => void;
  /**
   * The startup hold: an instance whose VIPs carry virtual services starts in fault until this host's
   * IPVS table holds them (asked every `pollMs`), for at most `holdMs` after the agent's first such
   * instance. Once released it never holds again in this process (a changed instance restarts at once).
   */
  readonly dataPlane?: { readonly table: DataPlane; readonly holdMs: number; readonly pollMs?: number };
}

interface Channel {
  readonly key: string;
  readonly socket: VrrpSocket;
  readonly routers: Map<number, VrrpRouter>;
  loop: Promise<void>;
  closed: boolean;
}

/** An instance that cannot start yet: its interface has no address to send its adverts from. */
interface Waiting {
  readonly instance: VrrpInstanceSpec;
  readonly why: string;
}

/** The tracked object that faults a running instance whose source address went away. */
const SOURCE = 'source address';
/** The tracked object of the startup hold. */
const TABLE = 'IPVS table';

export interface InstanceStatus {
  readonly instance: string;
  readonly state: string;
  readonly priority: number;
  readonly master: string | null;
}

/**
 * The instances of this host: one VrrpRouter each, one raw socket per interface (adverts are
 * matched to instances by VRID), the link watch, tracked scripts and virtual services, sync groups.
 * An instance whose interface has no address to send from yet (IPv6: no link-local address until
 * the link is up and duplicate address detection is done) waits in fault and starts when the link
 * watch reports one.
 */
export class VrrpAgent {
  readonly metrics: AgentMetrics;
  private readonly routers = new Map<string, VrrpRouter>();
  private readonly waiting = new Map<string, Waiting>();
  private readonly channels = new Map<string, Channel>();
  private readonly announcers = new Map<string, ArpAnnouncer>();
  private readonly scripts = new Map<string, ScriptTracker[]>();
  readonly virtualServices = new VirtualServiceHealth();
  private readonly clock: VrrpClock;
  private links = new Map<string, LinkStatus>();
  private linksRead = false;
  private watching: Promise<void> | null = null;
  /** apply() and the starts the link watch triggers, one at a time. */
  private work: Promise<unknown> = Promise.resolve();
  private syncing = false;
  private syncAgain = false;
  private stopped = false;
  /** Instances in the startup hold, and when it ends (null: not begun); `released`: over for good. */
  private readonly held = new Set<string>();
  private holdEnds: number | null = null;
  private released: boolean;
  private holdTimer: NodeJS.Timeout | null = null;
  private virtualServiceList: readonly VirtualService[] = [];

  private readonly addresses: AddressControl;

  constructor(private readonly opts: AgentOptions) {
    this.metrics = createAgentMetrics(opts.registry);
    this.addresses = serialized(opts.kernel.addresses);
    this.clock = opts.clock ?? { now: () => performance.now() };
    this.released = !opts.dataPlane;
  }

  /** The instances this host runs, waiting ones included. */
  get instances(): string[] {
    return [...this.routers.keys(), ...this.waiting.keys()];
  }

  status(): InstanceStatus[] {
    const running = [...this.routers.values()].map((r) => ({
      instance: r.id,
      state: r.state,
      priority: r.vrrp.effectivePriority,
      master: r.state === 'master' ? r.spec.primaryAddress : r.vrrp.masterAddress,
    }));
    const waiting = [...this.waiting.values()].map((w) => ({ instance: w.instance.id, state: 'fault', priority: this.priority(w.instance), master: null }));
    return [...running, ...waiting];
  }

  /** Why an instance waits instead of running; null when it runs or is unknown. */
  waitingFor(id: string): string | null {
    return this.waiting.get(id)?.why ?? null;
  }

  router(id: string): VrrpRouter | undefined {
    return this.routers.get(id);
  }

  /**
   * Makes the running instances those of `instances` that list this host: new ones start, removed
   * ones stop gracefully, changed ones restart. Returns the ids that could not run, with why.
   */
  async apply(instances: readonly VrrpInstanceSpec[]): Promise<{ id: string; why: string }[]> {
    return this.exclusive(async () => {
      const mine = instances.filter((i) => i.priorities[this.opts.host] !== undefined);
      const wanted = new Map(mine.map((i) => [i.id, i]));
      const refused: { id: string; why: string }[] = [];
      for (const [id, r] of this.routers) {
        const next = wanted.get(id);
        if (next && JSON.stringify(next) === JSON.stringify(r.spec.instance)) continue;
        await this.remove(id, next ? 'configuration changed' : 'instance removed from the configuration');
      }
      for (const [id, w] of this.waiting) {
        const next = wanted.get(id);
        if (next && JSON.stringify(next) === JSON.stringify(w.instance)) continue;
        this.stopWaiting(w, next ? 'configuration changed' : 'instance removed from the configuration');
      }
      await this.watchLinks();
      for (const inst of mine) {
        if (this.routers.has(inst.id) || this.waiting.has(inst.id)) continue;
        try {
          await this.add(inst);
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          refused.push({ id: inst.id, why });
          this.opts.logger.error({ instance: inst.id, err }, 'cannot run VRRP instance');
        }
      }
      return refused;
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.work.then(fn, fn);
    this.work = run.catch(() => undefined);
    return run;
  }

  private priority(inst: VrrpInstanceSpec): number {
    return inst.priorities[this.opts.host] ?? 0;
  }

  /** Where the adverts of `inst` go out from, after the link watch's latest view of its interface. */
  private source(inst: VrrpInstanceSpec, family: AddressFamily): SourceAddress {
    const link = this.links.get(inst.interface);
    if (!link) {
      if (this.linksRead) throw new Error(`interface ${inst.interface} of ${inst.id} does not exist`);
      return { ok: false, why: `the link states cannot be read (see the error logged), so the address of interface ${inst.interface} is unknown` };
    }
    const vips = new Set([...[...this.routers.values()].flatMap((r) => r.vips.map((v) => v.address)), ...inst.virtualAddresses.map((v) => v.address)]);
    return sourceAddress({ instance: inst.id, interface: inst.interface, family, addresses: link.addresses, vips, unicastPeers: inst.unicastPeers });
  }

  /** The family of an instance's adverts: that of its addresses (the schema keeps them to one, and IPv6 to v3). */
  private family(inst: VrrpInstanceSpec): AddressFamily {
    return inst.virtualAddresses.some((v) => isIP(v.address) === 6) ? 'ipv6' : 'ipv4';
  }

  /** Starts an instance, or has it wait in fault when its interface has no source address yet. */
  private async add(inst: VrrpInstanceSpec): Promise<void> {
    const family = this.family(inst);
    const unicast = inst.unicastPeers.length > 0;
    // Same interface, family and unicast-ness: the same socket, where the VRID tells instances apart.
    const others = [...[...this.routers.values()].map((r) => r.spec.instance), ...[...this.waiting.values()].map((w) => w.instance)];
    const sameChannel = (o: VrrpInstanceSpec) => o.interface === inst.interface && this.family(o) === family && o.unicastPeers.length > 0 === unicast;
    const clash = others.find((o) => o.id !== inst.id && o.virtualRouterId === inst.virtualRouterId && sameChannel(o));
    if (clash) throw new Error(`${inst.id}: VRID ${inst.virtualRouterId} on ${inst.interface} is already used by ${clash.id}`);
    const source = this.source(inst, family);
    if (!source.ok) return this.wait(inst, source.why);
    this.waiting.delete(inst.id);
    const channel = this.channel(inst.interface, unicast, family);
    const primaryAddress = source.address;
    const router = new VrrpRouter(
      { instance: inst, host: this.opts.host, primaryAddress, family },
      {
        io: {
          send: (packet, to, from) => channel.socket.send(packet, to, from),
          addresses: this.addresses,
          announcer: (iface) => this.announcer(iface),
        },
        hooks: {
          transition: (r, t) => this.onTransition(r, t),
          stepped: (r) => this.onStepped(r),
          drain: () => this.drain(channel, unicast),
        },
        clock: this.clock,
        logger: this.opts.logger,
        metrics: this.metrics,
        announce: this.opts.announce,
      },
    );
    this.routers.set(inst.id, router);
    channel.routers.set(inst.virtualRouterId, router);
    this.prepareAnnouncers(router);
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
    this.holdForTable(router);
    router.start();
    for (const t of trackers) t.start();
  }

  /** Puts a new instance in the startup hold if it carries virtual services and the hold is not over. */
  private holdForTable(router: VrrpRouter): void {
    const dp = this.opts.dataPlane;
    if (!dp || this.released) return;
    const services = frontedServices(router.spec.instance, this.virtualServiceList);
    if (services.length === 0) return;
    this.holdEnds ??= Date.now() + dp.holdMs;
    this.held.add(router.id);
    router.setTracked(TABLE, { ok: false, weight: 0 }, `waiting until this host's IPVS table holds ${services.map(describeService).join(', ')} (at most ${Math.max(0, Math.round((this.holdEnds - Date.now()) / 1000))} s)`);
    this.holdTimer ??= setTimeout(() => void this.checkTable(), 0);
  }

  /** One look at the table for every held instance; again after pollMs while any is held. */
  private async checkTable(): Promise<void> {
    const dp = this.opts.dataPlane;
    if (!dp) return;
    for (const id of [...this.held]) {
      const r = this.routers.get(id);
      if (!r || r.stopping || this.stopped) {
        this.held.delete(id);
        continue;
      }
      const services = frontedServices(r.spec.instance, this.virtualServiceList);
      let missing: string[] | null;
      try {
        missing = await dp.table.missing(services);
      } catch (err) {
        this.opts.logger.warn({ err, instance: id }, 'cannot read the IPVS table for the startup hold');
        missing = services.map(describeService);
      }
      if (!this.held.has(id) || this.routers.get(id) !== r) continue;
      const late = Date.now() >= (this.holdEnds ?? 0);
      if (missing === null || missing.length === 0) {
        const why = missing === null ? 'this host has no IPVS to wait for' : `this host's IPVS table holds ${services.map(describeService).join(', ')}`;
        this.opts.logger.info({ instance: id, reason: why }, 'startup hold over');
        r.setTracked(TABLE, { ok: true, weight: 0 }, why);
        this.held.delete(id);
      } else if (late) {
        const why = `the IPVS table still lacks ${missing.join(', ')} after ${dp.holdMs / 1000} s; taking part in VRRP anyway`;
        this.opts.logger.warn({ instance: id, missing, reason: why }, 'startup hold over');
        r.setTracked(TABLE, { ok: true, weight: 0 }, why);
        this.held.delete(id);
      }
    }
    this.holdTimer = null;
    if (this.held.size === 0) {
      // The first hold decides: later instances and restarts run at once.
      if (this.holdEnds !== null) this.released = true;
      return;
    }
    if (!this.stopped) this.holdTimer = setTimeout(() => void this.checkTable(), dp.pollMs ?? 250);
  }

  /** Holds an instance back in fault, saying why (once per reason), until its source address exists. */
  private wait(inst: VrrpInstanceSpec, why: string): void {
    const before = this.waiting.get(inst.id);
    this.waiting.set(inst.id, { instance: inst, why });
    if (before?.why === why) return;
    this.opts.logger.warn({ instance: inst.id, interface: inst.interface, reason: why }, 'VRRP instance waiting for an address to send from');
    this.setStateMetric(inst.id, 'fault');
    this.opts.onState?.({ instance: inst.id, state: 'fault', previous: before ? 'fault' : 'initialize', priority: this.priority(inst), reason: why.slice(0, 500) });
  }

  private stopWaiting(w: Waiting, why: string): void {
    this.waiting.delete(w.instance.id);
    this.setStateMetric(w.instance.id, null);
    this.opts.onState?.({ instance: w.instance.id, state: 'stopped', previous: 'fault', priority: 0, reason: why });
  }

  private setStateMetric(id: string, state: string | null): void {
    for (const s of ['initialize', 'backup', 'master', 'fault'] as const) this.metrics.state.set({ instance: id, state: s }, s === state ? 1 : 0);
  }

  /**
   * After the link watch reported: waiting instances whose source address now exists start; a
   * running one whose source address is gone goes to fault, and restarts from another one if the
   * interface got a different one (a new link-local address after the link came back).
   */
  private sourcesChanged(): void {
    void this.exclusive(async () => {
      for (const w of [...this.waiting.values()]) {
        if (this.stopped || this.waiting.get(w.instance.id) !== w) continue;
        try {
          await this.add(w.instance);
          if (this.routers.has(w.instance.id)) this.opts.logger.info({ instance: w.instance.id, interface: w.instance.interface }, 'VRRP instance has an address to send from now; started');
        } catch (err) {
          // The interface went away meanwhile: go on waiting, saying so.
          this.wait(w.instance, err instanceof Error ? err.message : String(err));
        }
      }
      for (const r of [...this.routers.values()]) {
        if (this.stopped || r.stopping || !this.links.has(r.interface)) continue;
        const own = this.links.get(r.interface)?.addresses.find((a) => a.address === r.spec.primaryAddress);
        if (own && !own.tentative) {
          r.setTracked(SOURCE, { ok: true, weight: 0 }, `${r.spec.primaryAddress} is back on interface ${r.interface}`);
          continue;
        }
        r.setTracked(SOURCE, { ok: false, weight: 0 }, `${r.spec.primaryAddress}, the adverts' source, is ${own ? 'tentative' : 'gone'} on interface ${r.interface}`);
        const next = this.source(r.spec.instance, r.spec.family);
        if (!next.ok || next.address === r.spec.primaryAddress) continue;
        await this.remove(r.id, `source address changed to ${next.address}`);
        if (!this.stopped) await this.add(r.spec.instance);
      }
    }).catch((err: unknown) => this.opts.logger.error({ err }, 'cannot start or restart VRRP instances after an address change'));
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

  private channel(iface: string, unicast: boolean, family: AddressFamily): Channel {
    const key = `${iface}/${family}/${unicast ? 'unicast' : 'multicast'}`;
    const existing = this.channels.get(key);
    if (existing) return existing;
    const socket = this.opts.kernel.openChannel({ interface: iface, unicast, family });
    const ch: Channel = { key, socket, routers: new Map(), loop: Promise.resolve(), closed: false };
    ch.loop = this.receiveLoop(ch, unicast);
    this.channels.set(key, ch);
    return ch;
  }

  private async receiveLoop(ch: Channel, unicast: boolean): Promise<void> {
    while (!ch.closed) {
      const packet = await ch.socket.receive();
      if (packet) this.dispatch(ch, packet, unicast);
    }
  }

  /** Dispatches the packets the kernel already holds for a channel (bounded: a flood must not stall us). */
  private drain(ch: Channel, unicast: boolean): void {
    for (let k = 0; k < 64 && !ch.closed; k += 1) {
      const packet = ch.socket.receiveNow();
      if (!packet) return;
      this.dispatch(ch, packet, unicast);
    }
  }

  /** Never throws: a packet that breaks anything is counted and dropped. */
  private dispatch(ch: Channel, packet: ReceivedPacket, unicast: boolean): void {
    const iface = ch.socket.interface;
    try {
      const ctx: DecodeContext =
        packet.family === 'ipv4'
          ? { family: 'ipv4', hasIpHeader: true, unicast }
          : { family: 'ipv6', srcAddr: packet.srcAddr, dstAddr: packet.dstAddr, ttl: packet.hopLimit, unicast };
      const r = decodePacket(packet.data, ctx);
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

  /**
   * Opens the announcers of an instance's VIP interfaces now, not at its first takeover: on a busy
   * director that first open (and the code it runs for the first time) delayed the gratuitous ARP.
   * One that cannot be opened now is tried again when it is needed.
   */
  private prepareAnnouncers(router: VrrpRouter): void {
    for (const link of new Set(router.vips.map((v) => v.link))) {
      try {
        this.announcer(link);
      } catch (err) {
        this.opts.logger.warn({ err, instance: router.id, interface: link }, 'cannot open the gratuitous ARP socket yet; trying again at takeover');
      }
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

  private linkState(name: string): { up: boolean; why: string } {
    const l = this.links.get(name);
    if (!l) return { up: false, why: `interface ${name} does not exist` };
    if (l.usable) return { up: true, why: `interface ${name} is up` };
    if (!l.adminUp) return { up: false, why: `interface ${name} is down` };
    return { up: false, why: `interface ${name} has ${l.carrier ? 'no operational link' : 'no carrier'} (${l.operState})` };
  }

  private trackLinks(r: VrrpRouter): void {
    const inst = r.spec.instance;
    const own = this.linkState(inst.interface);
    r.setTracked(`interface ${inst.interface}`, { ok: own.up, weight: 0 }, own.why);
    for (const t of inst.trackInterfaces) {
      const s = this.linkState(t.interface);
      r.setTracked(`interface ${t.interface}`, { ok: s.up, weight: t.weight }, s.why);
    }
  }

  /** Starts following link states once; every change re-evaluates every instance's tracked links. */
  private watchLinks(): Promise<void> {
    this.watching ??= this.opts.kernel.links
      .watch((links) => this.linksChanged(links))
      .then((links) => {
        this.links = new Map(links.map((l) => [l.name, l]));
        this.linksRead = true;
      })
      .catch((err: unknown) => {
        // Without link states every instance would sit in fault; say so and try again on the next apply.
        this.opts.logger.error({ err }, 'cannot read link states');
        this.watching = null;
      });
    return this.watching;
  }

  private linksChanged(links: readonly LinkStatus[]): void {
    if (this.stopped) return;
    this.links = new Map(links.map((l) => [l.name, l]));
    this.linksRead = true;
    for (const r of this.routers.values()) if (!r.stopping) this.trackLinks(r);
    this.sourcesChanged();
  }

  /** A health event from the health-checker: tracked virtual services may change state. */
  onHealth(data: EventData<'health'>): void {
    const changed = this.virtualServices.onHealth(data);
    if (changed) this.virtualServicesChanged([changed]);
  }

  /** The desired virtual services (their real servers and quorum), from the KV store. */
  setVirtualServices(services: readonly VirtualService[]): void {
    this.virtualServiceList = services;
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
    const waiting = this.waiting.get(id);
    if (waiting) return errorReply('CONFLICT', `VRRP instance ${id} is fault here, not master: ${waiting.why}`);
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
    if (this.holdTimer) clearTimeout(this.holdTimer);
    for (const w of [...this.waiting.values()]) this.stopWaiting(w, why);
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
