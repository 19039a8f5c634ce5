import { checkAdvert } from '../check.js';
import type { CheckDropReason } from '../check.js';
import { VrrpInstance } from '../instance.js';
import type { VrrpAction, VrrpClock, VrrpEvent, VrrpInstanceConfig, VrrpStep, VrrpTimer } from '../instance.js';
import { decodePacket, encodeAdvert, encodeIpv4Packet, multicastGroup } from '../packet.js';
import type { DecodeDropReason, VrrpAuth } from '../packet.js';

/** A clock the test moves by hand. */
export class FakeClock implements VrrpClock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    if (t < this.t) throw new Error(`FakeClock: time goes forward only (${this.t} -> ${t})`);
    this.t = t;
  }
}

export interface SimRouterSpec extends VrrpInstanceConfig {
  /** The virtual addresses (put in the adverts and checked by the peers). */
  readonly addresses: readonly string[];
  readonly auth?: VrrpAuth;
}

export interface LanLogEntry {
  readonly t: number;
  readonly router: string;
  readonly event: VrrpEvent['type'];
  readonly why: string;
  readonly transition?: VrrpStep['transition'];
}

interface Scheduled {
  readonly at: number;
  readonly seq: number;
}

/** One router on the simulated segment: a VrrpInstance plus what the agent would hold for it. */
export class SimRouter {
  readonly instance: VrrpInstance;
  /** Whether the virtual addresses are up on this router (becomeMaster until it leaves master). */
  holdsAddresses = false;
  linkUp = true;
  crashed = false;
  readonly sent: { t: number; priority: number }[] = [];
  readonly drops = new Map<DecodeDropReason | CheckDropReason, number>();
  readonly timers = new Map<VrrpTimer, Scheduled>();

  constructor(
    readonly spec: SimRouterSpec,
    clock: VrrpClock,
  ) {
    this.instance = new VrrpInstance(spec, clock);
  }
  get name(): string {
    return this.spec.name;
  }
}

interface InFlight extends Scheduled {
  readonly from: SimRouter;
  readonly bytes: Buffer;
}

/**
 * Routers of one VRID on one multicast segment, stepped on a fake clock in the style of seesaw's
 * ha_test.go: every advert goes through encodeAdvert -> decodePacket -> checkAdvert, so the codec
 * and the state machine are exercised together. Link and crash faults let tests make split brains.
 */
export class SimulatedLan {
  readonly clock = new FakeClock();
  readonly log: LanLogEntry[] = [];
  private readonly routers = new Map<string, SimRouter>();
  private inFlight: InFlight[] = [];
  private seq = 0;
  private ipId = 0;

  constructor(private readonly opts: { readonly latencyMs?: number } = {}) {}

  add(spec: SimRouterSpec): SimRouter {
    if (this.routers.has(spec.name)) throw new Error(`SimulatedLan: router ${spec.name} exists`);
    const r = new SimRouter(spec, this.clock);
    this.routers.set(spec.name, r);
    return r;
  }

  router(name: string): SimRouter {
    const r = this.routers.get(name);
    if (!r) throw new Error(`SimulatedLan: no router ${name}`);
    return r;
  }

  /** Feeds an event to a router now and carries out its actions. */
  step(name: string, event: VrrpEvent): VrrpStep {
    const r = this.router(name);
    const result = r.instance.step(event);
    this.log.push({
      t: this.clock.now(),
      router: name,
      event: event.type,
      why: result.why,
      ...(result.transition ? { transition: result.transition } : {}),
    });
    for (const action of result.actions) this.apply(r, action);
    return result;
  }

  startup(name: string): VrrpStep {
    return this.step(name, { type: 'startup' });
  }

  shutdown(name: string): VrrpStep {
    return this.step(name, { type: 'shutdown' });
  }

  /** SIGKILL and the link down: nothing more is sent or received, no priority 0. */
  crash(name: string): void {
    const r = this.router(name);
    r.crashed = true;
    r.linkUp = false;
    r.timers.clear();
  }

  /** Cuts or restores a router's link; the router keeps running (split brain when cut). */
  setLink(name: string, up: boolean): void {
    this.router(name).linkUp = up;
  }

  /** Routers holding the virtual addresses (crashed ones excluded). */
  masters(): string[] {
    return [...this.routers.values()].filter((r) => r.holdsAddresses && !r.crashed).map((r) => r.name);
  }

  /** Runs everything due within the next `ms`, in time order, and leaves the clock there. */
  advance(ms: number): void {
    const end = this.clock.now() + ms;
    for (;;) {
      const next = this.nextDue(end);
      if (!next) break;
      this.clock.set(next.at);
      if (next.kind === 'timer') {
        next.router.timers.delete(next.timer);
        this.step(next.router.name, { type: 'timerExpired', timer: next.timer });
      } else {
        this.inFlight = this.inFlight.filter((p) => p !== next.packet);
        this.deliver(next.packet);
      }
    }
    this.clock.set(end);
  }

  /** Advances in small steps until `done()` holds; returns the time it took, or null after `maxMs`. */
  advanceUntil(done: () => boolean, maxMs: number, stepMs = 1): number | null {
    const start = this.clock.now();
    while (this.clock.now() - start <= maxMs) {
      if (done()) return this.clock.now() - start;
      this.advance(stepMs);
    }
    return null;
  }

  private nextDue(
    end: number,
  ):
    | { kind: 'timer'; at: number; seq: number; router: SimRouter; timer: VrrpTimer }
    | { kind: 'packet'; at: number; seq: number; packet: InFlight }
    | null {
    let best: ReturnType<SimulatedLan['nextDue']> = null;
    const earlier = (at: number, seq: number) => !best || at < best.at || (at === best.at && seq < best.seq);
    for (const r of this.routers.values()) {
      for (const [timer, s] of r.timers) {
        if (s.at <= end && earlier(s.at, s.seq)) best = { kind: 'timer', at: s.at, seq: s.seq, router: r, timer };
      }
    }
    for (const p of this.inFlight) {
      if (p.at <= end && earlier(p.at, p.seq)) best = { kind: 'packet', at: p.at, seq: p.seq, packet: p };
    }
    return best;
  }

  private apply(r: SimRouter, action: VrrpAction): void {
    const now = this.clock.now();
    switch (action.type) {
      case 'sendAdvert':
        r.sent.push({ t: now, priority: action.priority });
        if (r.linkUp && !r.crashed) {
          this.inFlight.push({ at: now + (this.opts.latencyMs ?? 0), seq: (this.seq += 1), from: r, bytes: this.encode(r, action.priority) });
        }
        break;
      case 'becomeMaster':
        r.holdsAddresses = true;
        break;
      case 'becomeBackup':
      case 'enterFault':
      case 'enterInitialize':
        r.holdsAddresses = false;
        break;
      case 'setTimer':
        if (!r.crashed) r.timers.set(action.timer, { at: now + action.ms, seq: (this.seq += 1) });
        break;
      case 'cancelTimer':
        r.timers.delete(action.timer);
        break;
    }
  }

  private encode(r: SimRouter, priority: number): Buffer {
    const s = r.spec;
    const advert = {
      version: s.version,
      vrid: s.vrid,
      priority,
      intervalMs: s.advertIntervalMs,
      addresses: s.addresses,
      ...(s.version === 2 && s.auth ? { auth: s.auth } : {}),
    };
    if (s.family === 'ipv4') {
      this.ipId = (this.ipId % 0xffff) + 1;
      return encodeIpv4Packet(advert, { srcAddr: s.primaryAddress, id: this.ipId });
    }
    return encodeAdvert(advert, { family: s.family, srcAddr: s.primaryAddress, dstAddr: multicastGroup(s.family) });
  }

  private deliver(p: InFlight): void {
    if (!p.from.linkUp) return; // the link went down while the packet was on the wire
    for (const r of this.routers.values()) {
      if (r === p.from || !r.linkUp || r.crashed) continue;
      const s = r.spec;
      const decoded =
        s.family === 'ipv4'
          ? decodePacket(p.bytes, { family: 'ipv4', hasIpHeader: true })
          : decodePacket(p.bytes, { family: s.family, srcAddr: p.from.spec.primaryAddress, dstAddr: multicastGroup(s.family), ttl: 255 });
      if (!decoded.ok) {
        r.drops.set(decoded.reason, (r.drops.get(decoded.reason) ?? 0) + 1);
        continue;
      }
      if (decoded.advert.vrid !== s.vrid) continue; // another virtual router on the segment
      const checked = checkAdvert(decoded.advert, {
        family: s.family,
        version: s.version,
        vrid: s.vrid,
        intervalMs: s.advertIntervalMs,
        addresses: s.addresses,
        ...(s.auth ? { auth: s.auth } : {}),
      });
      if (!checked.ok) {
        r.drops.set(checked.reason, (r.drops.get(checked.reason) ?? 0) + 1);
        continue;
      }
      this.step(r.name, { type: 'advertReceived', advert: decoded.advert, from: decoded.packet.srcAddr });
    }
  }
}
