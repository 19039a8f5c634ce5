import type { AddressControl, ArpAnnouncer } from '@fulcrum/netlink';
import type { VrrpInstance as VrrpInstanceSpec } from '@fulcrum/schemas';
import { VrrpInstance, checkAdvert, encodeAdvert, encodeIpv4Packet, multicastGroup, passwordAuth } from '@fulcrum/vrrp';
import type { AddressFamily, AdvertExpectation, PacketInfo, VrrpAction, VrrpAdvert, VrrpAuth, VrrpClock, VrrpEvent, VrrpState, VrrpStep, VrrpTimer } from '@fulcrum/vrrp';
import type { Logger } from 'pino';
import type { AgentMetrics } from './metrics.js';
import { trackedWeight } from './tracking.js';
import type { TrackedState } from './tracking.js';

/** Gratuitous ARP after becoming master (keepalived garp_master_repeat / _delay / _refresh). */
export interface AnnounceConfig {
  /** ARPs per burst. */
  readonly count: number;
  /** Between the ARPs of one burst. */
  readonly intervalMs: number;
  /** A second burst this long after the first; 0 = none. */
  readonly repeatDelayMs: number;
  /** A burst every this long while master; 0 = never. */
  readonly refreshMs: number;
}

/** One instance as this host runs it: the desired object plus what this host adds. */
export interface RouterSpec {
  readonly instance: VrrpInstanceSpec;
  readonly host: string;
  /** This host's primary address on the instance's interface: the adverts' source. */
  readonly primaryAddress: string;
  readonly family: AddressFamily;
}

export interface RouterIo {
  /** Sends on the instance's interface: IPv4, a whole packet; IPv6, the VRRP message from `from`. */
  send(packet: Buffer, to: string, from?: string): void;
  readonly addresses: AddressControl;
  announcer(iface: string): ArpAnnouncer;
}

export interface RouterHooks {
  transition(router: VrrpRouter, t: NonNullable<VrrpStep['transition']>): void;
  /** After every step (sync groups look at every member then). */
  stepped(router: VrrpRouter): void;
  /** Hands over every advert already received on the router's socket (before a master-down decision). */
  drain(router: VrrpRouter): void;
}

export interface RouterDeps {
  readonly io: RouterIo;
  readonly hooks: RouterHooks;
  readonly clock: VrrpClock;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly announce: AnnounceConfig;
}

interface Vip {
  readonly address: string;
  readonly prefix: number;
  readonly link: string;
}

/**
 * Runs one VrrpInstance for real: its timers, its adverts through the interface's socket, its
 * virtual addresses through rtnetlink, gratuitous ARPs, and the tracked objects that move it.
 */
export class VrrpRouter {
  readonly id: string;
  readonly vrrp: VrrpInstance;
  readonly expectation: AdvertExpectation;
  readonly vips: readonly Vip[];
  private readonly auth: VrrpAuth | undefined;
  private readonly destinations: readonly string[];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly announceTimers = new Set<NodeJS.Timeout>();
  private readonly tracked = new Map<string, TrackedState>();
  private vipWork: Promise<void> = Promise.resolve();
  private ipId = 0;
  private log: Logger;
  stopping = false;

  constructor(
    readonly spec: RouterSpec,
    private readonly deps: RouterDeps,
  ) {
    const inst = spec.instance;
    this.id = inst.id;
    this.log = deps.logger.child({ instance: inst.id });
    const priority = inst.priorities[spec.host];
    if (priority === undefined) throw new Error(`VRRP instance ${inst.id} has no priority for host ${spec.host}`);
    const family = spec.family;
    const advertIntervalMs = Math.round(inst.advertInterval * 1000);
    this.vrrp = new VrrpInstance(
      {
        name: inst.id,
        version: inst.version,
        family,
        vrid: inst.virtualRouterId,
        priority,
        advertIntervalMs,
        primaryAddress: spec.primaryAddress,
        preempt: inst.preempt,
        preemptDelayMs: Math.round(inst.preemptDelay * 1000),
        inSyncGroup: inst.syncGroup !== undefined,
      },
      deps.clock,
    );
    this.auth = inst.authentication ? passwordAuth(inst.authentication.password) : undefined;
    const addresses = inst.virtualAddresses.map((v) => v.address);
    this.expectation = {
      family,
      version: inst.version,
      vrid: inst.virtualRouterId,
      intervalMs: advertIntervalMs,
      addresses,
      ...(this.auth ? { auth: this.auth } : {}),
    };
    this.vips = inst.virtualAddresses.map((v) => ({
      address: v.address,
      prefix: v.prefix ?? (family === 'ipv4' ? 32 : 128),
      link: v.interface ?? inst.interface,
    }));
    this.destinations = inst.unicastPeers.length > 0 ? inst.unicastPeers.filter((p) => p !== spec.primaryAddress) : [multicastGroup(family)];
  }

  get state(): VrrpState {
    return this.vrrp.state;
  }
  get unicast(): boolean {
    return this.spec.instance.unicastPeers.length > 0;
  }
  get interface(): string {
    return this.spec.instance.interface;
  }

  start(): void {
    // Addresses left behind by a crashed predecessor must not answer for a router that is not master.
    this.removeVips();
    this.step({ type: 'startup' });
  }

  /** Graceful stop: priority 0 if master, addresses removed; resolves when the kernel has them gone. */
  async stop(why: string): Promise<void> {
    this.stopping = true;
    this.step({ type: 'shutdown', why });
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.stopAnnouncing();
    await this.vipWork;
  }

  /** An advert that decoded; the instance-specific checks are made here. */
  receive(advert: VrrpAdvert, packet: PacketInfo): void {
    if (packet.srcAddr === this.spec.primaryAddress) return;
    const check = checkAdvert(advert, this.expectation);
    if (!check.ok) {
      this.deps.metrics.packetsDropped.inc({ interface: this.interface, reason: check.reason });
      this.log.debug({ from: packet.srcAddr, reason: check.reason, detail: check.detail }, 'advert dropped');
      return;
    }
    this.deps.metrics.advertsReceived.inc({ instance: this.id });
    this.step({ type: 'advertReceived', advert: { priority: advert.priority, intervalMs: advert.intervalMs }, from: packet.srcAddr });
  }

  /** A tracked object's new state: weight 0 objects fault the instance, others move its priority. */
  setTracked(source: string, state: TrackedState, why: string): void {
    const before = this.tracked.get(source);
    if (before && before.ok === state.ok && before.weight === state.weight && before.reverse === state.reverse) return;
    this.tracked.set(source, state);
    if (state.weight === 0) {
      if (before?.ok === state.ok) return;
      if (!before && state.ok) return;
      this.step({ type: 'trackFault', source, failed: !state.ok, why });
      return;
    }
    const weighted = [...this.tracked.values()].filter((t) => t.weight !== 0);
    this.step({ type: 'priorityChanged', trackedWeight: trackedWeight(weighted), why });
  }

  step(event: VrrpEvent): VrrpStep {
    const r = this.vrrp.step(event);
    for (const a of r.actions) this.act(a);
    this.deps.metrics.priority.set({ instance: this.id }, this.vrrp.effectivePriority);
    if (r.transition) {
      for (const s of ['initialize', 'backup', 'master', 'fault'] as const) {
        this.deps.metrics.state.set({ instance: this.id, state: s }, s === r.state ? 1 : 0);
      }
      this.deps.metrics.transitions.inc({ instance: this.id, to: r.transition.to });
      this.log.info({ from: r.transition.from, to: r.transition.to, priority: this.vrrp.effectivePriority, reason: r.transition.why }, 'vrrp transition');
      this.deps.hooks.transition(this, r.transition);
    } else if (event.type !== 'advertReceived' && !(event.type === 'timerExpired' && event.timer === 'adver')) {
      this.log.debug({ event: event.type, why: r.why }, 'vrrp step');
    }
    this.deps.hooks.stepped(this);
    return r;
  }

  private act(a: VrrpAction): void {
    switch (a.type) {
      case 'sendAdvert':
        return this.sendAdvert(a.priority);
      case 'setTimer': {
        const old = this.timers.get(a.timer);
        if (old) clearTimeout(old);
        if (this.stopping) return;
        this.timers.set(
          a.timer,
          setTimeout(() => this.expired(a.timer), Math.max(0, a.ms)),
        );
        return;
      }
      case 'cancelTimer': {
        const old = this.timers.get(a.timer);
        if (old) clearTimeout(old);
        this.timers.delete(a.timer);
        return;
      }
      case 'becomeMaster':
        return this.addVips();
      case 'becomeBackup':
      case 'enterFault':
      case 'enterInitialize':
        if (a.from === 'master') this.removeVips();
        return;
    }
  }

  private expired(timer: VrrpTimer): void {
    this.timers.delete(timer);
    if (timer === 'adver') {
      this.step({ type: 'timerExpired', timer });
      return;
    }
    // After a stall (a starved process, a long GC) timers run before the I/O that waited behind
    // them: an advert already received would lose to a master-down deadline it should have moved.
    // Read what the kernel holds now, then let pending I/O in too; if either re-armed the timer,
    // this expiry is stale.
    this.deps.hooks.drain(this);
    if (this.stopping || this.timers.has(timer)) return;
    setImmediate(() => {
      if (this.stopping || this.timers.has(timer)) return;
      this.step({ type: 'timerExpired', timer });
    });
  }

  private sendAdvert(priority: number): void {
    const inst = this.spec.instance;
    const advert: VrrpAdvert = {
      version: inst.version,
      vrid: inst.virtualRouterId,
      priority,
      intervalMs: this.expectation.intervalMs,
      addresses: this.expectation.addresses ?? [],
      ...(this.auth ? { auth: this.auth } : {}),
    };
    const src = this.spec.primaryAddress;
    for (const dst of this.destinations) {
      this.ipId = (this.ipId + 1) & 0xffff;
      try {
        if (this.spec.family === 'ipv6') this.deps.io.send(encodeAdvert(advert, { family: 'ipv6', srcAddr: src, dstAddr: dst }), dst, src);
        else this.deps.io.send(encodeIpv4Packet(advert, { srcAddr: src, dstAddr: dst, id: this.ipId }), dst);
        this.deps.metrics.advertsSent.inc({ instance: this.id });
      } catch (err) {
        // A link that is down refuses the send; the link tracker moves the instance to fault.
        this.deps.metrics.sendErrors.inc({ instance: this.id });
        this.log.debug({ err, to: dst }, 'advert not sent');
      }
    }
  }

  private addVips(): void {
    const asked = Date.now();
    this.vipWork = this.vipWork.then(async () => {
      await Promise.all(
        this.vips.map(async (v) => {
          try {
            await this.deps.io.addresses.addAddress(v.link, v.address, v.prefix);
          } catch (err) {
            if ((err as { errno?: string }).errno === 'EEXIST') return;
            this.deps.metrics.addressErrors.inc({ instance: this.id });
            this.log.error({ err, address: v.address, link: v.link }, 'cannot add virtual address');
          }
        }),
      );
      if (this.vrrp.state !== 'master') return;
      this.startAnnouncing();
      // As keepalived says it sends gratuitous ARPs: when the client side could move, after the transition.
      this.log.info({ addresses: this.vips.map((v) => v.address), ms: Date.now() - asked }, 'virtual addresses added and announced');
    });
  }

  private removeVips(): void {
    this.stopAnnouncing();
    this.vipWork = this.vipWork.then(async () => {
      await Promise.all(
        this.vips.map(async (v) => {
          try {
            await this.deps.io.addresses.deleteAddress(v.link, v.address, v.prefix);
          } catch (err) {
            const errno = (err as { errno?: string }).errno;
            if (errno === 'EADDRNOTAVAIL' || errno === 'ENODEV') return;
            this.deps.metrics.addressErrors.inc({ instance: this.id });
            this.log.error({ err, address: v.address, link: v.link }, 'cannot remove virtual address');
          }
        }),
      );
    });
  }

  private burst(): void {
    const { count, intervalMs } = this.deps.announce;
    for (let i = 0; i < count; i += 1) {
      if (i === 0 || intervalMs === 0) this.announceOnce();
      else this.later(i * intervalMs, () => this.announceOnce());
    }
  }

  private startAnnouncing(): void {
    this.stopAnnouncing();
    this.burst();
    const { repeatDelayMs, refreshMs } = this.deps.announce;
    if (repeatDelayMs > 0) this.later(repeatDelayMs, () => this.burst());
    if (refreshMs > 0) {
      const refresh = () => {
        this.burst();
        this.later(refreshMs, refresh);
      };
      this.later(refreshMs, refresh);
    }
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.announceTimers.delete(t);
      if (this.vrrp.state === 'master') fn();
    }, ms);
    this.announceTimers.add(t);
  }

  private stopAnnouncing(): void {
    for (const t of this.announceTimers) clearTimeout(t);
    this.announceTimers.clear();
  }

  private announceOnce(): void {
    for (const v of this.vips) {
      try {
        this.deps.io.announcer(v.link).announce(v.address);
        this.deps.metrics.garpSent.inc({ instance: this.id });
      } catch (err) {
        this.log.warn({ err, address: v.address, link: v.link }, this.spec.family === 'ipv6' ? 'neighbour advertisement not sent' : 'gratuitous ARP not sent');
      }
    }
  }
}
