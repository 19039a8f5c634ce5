import { compareAddressBytes, formatAddress, parseAddress, requireAddress } from './address.js';
import type { AddressFamily } from './address.js';
import { VrrpConfigError } from './errors.js';
import { checkInterval } from './packet.js';
import type { VrrpVersion } from './packet.js';
import { effectivePriority, masterDownIntervalMs, PRIORITY_OWNER, PRIORITY_STOP, skewMs } from './timing.js';

export type VrrpState = 'initialize' | 'backup' | 'master' | 'fault';

/** A timer expiry this close to its deadline counts as on time. */
export const TIMER_SLACK_MS = 1;
export type VrrpTimer = 'adver' | 'masterDown';

export interface VrrpInstanceConfig {
  /** For the reasons the machine gives. */
  readonly name: string;
  readonly version: VrrpVersion;
  readonly family: AddressFamily;
  readonly vrid: number;
  /** Base priority 1..255; 255 = the address owner. */
  readonly priority: number;
  readonly advertIntervalMs: number;
  /** This router's primary address (the adverts' source): breaks ties between equal priorities. */
  readonly primaryAddress: string;
  /** Default true. false = keepalived `nopreempt`: a higher priority backup leaves a live master alone. */
  readonly preempt?: boolean;
  /** keepalived `preempt_delay`: a backup that could preempt waits this long after first seeing the lower master. */
  readonly preemptDelayMs?: number;
  /**
   * keepalived `state MASTER` for a non-owner: the first master-down timer is one advert interval
   * plus the smallest skew instead of the full Master_Down_Interval. Default 'backup'.
   */
  readonly initialState?: 'backup' | 'master';
  /** keepalived `vrrp_lower_prio_no_advert`: a master does not answer a lower priority advert. Default false. */
  readonly lowerPrioNoAdvert?: boolean;
  /** keepalived `vrrp_higher_prio_send_advert`: a master sends one last advert before yielding. Default false. */
  readonly higherPrioSendAdvert?: boolean;
  /**
   * Member of a sync group: instead of taking over on its own when the master-down timer fires, the
   * instance reports `wantsMaster` and waits for a `syncGroup` event (see syncGroupDecision).
   */
  readonly inSyncGroup?: boolean;
}

/** Facts the agent observed; `why` is carried into the transition it causes. */
export type VrrpEvent =
  | { readonly type: 'startup'; readonly why?: string }
  | { readonly type: 'shutdown'; readonly why?: string }
  /** An advert that passed decodePacket and checkAdvert; `from` is its source address. */
  | { readonly type: 'advertReceived'; readonly advert: { readonly priority: number; readonly intervalMs: number }; readonly from: string }
  | { readonly type: 'timerExpired'; readonly timer: VrrpTimer }
  /** A tracked object (interface, script, ...) failed or recovered; any failed source means Fault. */
  | { readonly type: 'trackFault'; readonly source: string; readonly failed: boolean; readonly why?: string }
  /** The sum of the weights of the tracked objects now failing/succeeding (see effectivePriority). */
  | { readonly type: 'priorityChanged'; readonly trackedWeight: number; readonly why?: string }
  /** The sync group says this member must follow the group. */
  | { readonly type: 'syncGroup'; readonly to: 'master' | 'backup'; readonly why: string };

/** What the agent must do, in this order. */
export type VrrpAction =
  | { readonly type: 'sendAdvert'; readonly priority: number }
  /** Add the virtual addresses and announce them (gratuitous ARP / unsolicited NA). */
  | { readonly type: 'becomeMaster'; readonly from: VrrpState; readonly why: string }
  /** Remove the virtual addresses if `from` is master. */
  | { readonly type: 'becomeBackup'; readonly from: VrrpState; readonly why: string }
  /** Remove the virtual addresses if `from` is master; send nothing until the fault clears. */
  | { readonly type: 'enterFault'; readonly from: VrrpState; readonly why: string }
  /** Stopped (shutdown): remove the virtual addresses if `from` is master. */
  | { readonly type: 'enterInitialize'; readonly from: VrrpState; readonly why: string }
  /** (Re)arm a timer to fire `ms` from now, replacing any earlier deadline for it. */
  | { readonly type: 'setTimer'; readonly timer: VrrpTimer; readonly ms: number }
  | { readonly type: 'cancelTimer'; readonly timer: VrrpTimer };

export interface VrrpStep {
  readonly state: VrrpState;
  readonly actions: readonly VrrpAction[];
  /** What the machine made of the event, for the log (also when nothing changed). */
  readonly why: string;
  readonly transition?: { readonly from: VrrpState; readonly to: VrrpState; readonly why: string };
}

export interface VrrpClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
}

/**
 * One VRRP virtual router as RFC 3768/5798 section 6.4 describe it, with keepalived 2.2.7's
 * choices where the RFCs leave room (see the package README in index.ts). No I/O and no timers of
 * its own: the agent feeds events and carries out the actions; time comes from the clock.
 */
export class VrrpInstance {
  readonly config: Required<VrrpInstanceConfig>;
  private readonly primary: Uint8Array;
  private current: VrrpState = 'initialize';
  private basePriority: number;
  private priority: number;
  private masterAdverInterval: number;
  private readonly faults = new Map<string, string>();
  private readonly deadlines = new Map<VrrpTimer, number>();
  private preemptAt: number | null = null;
  private lastMaster: string | null = null;
  private wantMaster = false;

  constructor(
    config: VrrpInstanceConfig,
    private readonly clock: VrrpClock,
  ) {
    this.config = validateConfig(config);
    this.primary = requireAddress(config.family, config.primaryAddress, 'primaryAddress');
    this.basePriority = config.priority;
    this.priority = config.priority;
    this.masterAdverInterval = config.advertIntervalMs;
  }

  get state(): VrrpState {
    return this.current;
  }
  /** The priority this instance advertises now. */
  get effectivePriority(): number {
    return this.priority;
  }
  get masterAdverIntervalMs(): number {
    return this.masterAdverInterval;
  }
  get skewMs(): number {
    return skewMs(this.config.version, 256 - this.priority, this.masterAdverInterval);
  }
  get masterDownIntervalMs(): number {
    return masterDownIntervalMs(this.config.version, this.priority, this.masterAdverInterval);
  }
  /** Source address of the last advert a backup accepted (the master, as far as it knows). */
  get masterAddress(): string | null {
    return this.lastMaster;
  }
  /** A sync group member whose master-down timer fired: it would be master but for the group. */
  get wantsMaster(): boolean {
    return this.wantMaster;
  }
  get faultSources(): ReadonlyMap<string, string> {
    return this.faults;
  }
  /** When each armed timer fires, on the injected clock. */
  get timers(): ReadonlyMap<VrrpTimer, number> {
    return this.deadlines;
  }

  step(event: VrrpEvent): VrrpStep {
    const out = new StepBuilder(this.current);
    switch (event.type) {
      case 'startup':
        this.onStartup(out, event.why ?? 'startup');
        break;
      case 'shutdown':
        this.onShutdown(out, event.why ?? 'shutdown');
        break;
      case 'advertReceived':
        this.onAdvert(out, event.advert.priority, event.advert.intervalMs, event.from);
        break;
      case 'timerExpired':
        this.onTimer(out, event.timer);
        break;
      case 'trackFault':
        this.onTrackFault(out, event.source, event.failed, event.why ?? `${event.source} ${event.failed ? 'failed' : 'recovered'}`);
        break;
      case 'priorityChanged':
        this.onPriorityChanged(out, event.trackedWeight, event.why ?? 'tracked weight changed');
        break;
      case 'syncGroup':
        this.onSyncGroup(out, event.to, event.why);
        break;
    }
    return out.build(this.current);
  }

  // --- events -------------------------------------------------------------------------------

  private onStartup(out: StepBuilder, why: string): void {
    if (this.current !== 'initialize') return out.note(`already running (${this.current}); startup ignored`);
    this.masterAdverInterval = this.config.advertIntervalMs;
    this.preemptAt = null;
    this.wantMaster = false;
    if (this.faults.size > 0) return this.enterFault(out, `${why}: ${this.faultSummary()}`);
    const owner = this.basePriority === PRIORITY_OWNER;
    if (owner && !this.config.inSyncGroup) return this.goMaster(out, `${why}: address owner (priority 255)`);
    if (owner) {
      // A group member may only take over with the group: say so at once, let the group decide.
      this.toBackup(out, `${why}: address owner waiting for its sync group`);
      this.wantMaster = true;
      return;
    }
    if (this.config.initialState === 'master') {
      // keepalived `state MASTER`: wait one interval (and the smallest skew) for a live master.
      const ms = this.masterAdverInterval + skewMs(this.config.version, 1, this.masterAdverInterval);
      return this.toBackup(out, `${why}: initial state MASTER, listening one interval first`, ms);
    }
    this.toBackup(out, why);
  }

  private onShutdown(out: StepBuilder, why: string): void {
    const from = this.current;
    if (from === 'initialize') return out.note('not running; shutdown ignored');
    this.cancelAll(out);
    // RFC 6.4.3: a master that stops sends priority 0 so that a backup takes over after Skew_Time.
    if (from === 'master') out.push({ type: 'sendAdvert', priority: PRIORITY_STOP });
    this.current = 'initialize';
    this.wantMaster = false;
    this.preemptAt = null;
    out.push({ type: 'enterInitialize', from, why });
    out.transition(from, 'initialize', why);
  }

  private onAdvert(out: StepBuilder, priority: number, intervalMs: number, from: string): void {
    const sender = parseAddress(this.config.family, from);
    if (!sender) return out.note(`advert from ${JSON.stringify(from)}, not an ${this.config.family} address; ignored`);
    const fromText = formatAddress(this.config.family, sender);
    if (this.current === 'backup') return this.backupAdvert(out, priority, intervalMs, fromText);
    if (this.current === 'master') return this.masterAdvert(out, priority, intervalMs, fromText, compareAddressBytes(sender, this.primary));
    out.note(`advert from ${fromText} ignored in ${this.current}`);
  }

  private backupAdvert(out: StepBuilder, priority: number, intervalMs: number, from: string): void {
    const now = this.clock.now();
    if (priority === PRIORITY_STOP) {
      // The master resigned: take over after Skew_Time unless a higher priority backup speaks first.
      this.lastMaster = from;
      this.arm(out, 'masterDown', this.skewMs);
      return out.note(`${from} resigned (priority 0): master down in skew time ${this.skewMs} ms`);
    }
    const delaying = this.config.preemptDelayMs > 0 && (this.preemptAt === null || this.preemptAt > now);
    if (!this.config.preempt || priority >= this.priority || delaying) {
      if (this.config.version === 3) this.masterAdverInterval = intervalMs; // RFC 5798 6.4.2: learn the master's interval
      this.lastMaster = from;
      this.wantMaster = false;
      let note = `advert from ${from} priority ${priority}: master alive`;
      if (this.config.preemptDelayMs > 0) {
        if (priority >= this.priority) {
          this.preemptAt = null;
        } else if (this.preemptAt === null) {
          this.preemptAt = now + this.config.preemptDelayMs;
          note += `; lower than ours (${this.priority}), preempting after ${this.config.preemptDelayMs} ms`;
        } else {
          note += `; preempt delay ends in ${this.preemptAt - now} ms`;
        }
      }
      this.arm(out, 'masterDown', this.masterDownIntervalMs);
      return out.note(note);
    }
    // Preempt: let the master-down timer run out on this lower priority master.
    this.lastMaster = from;
    out.note(`advert from ${from} priority ${priority} lower than ours (${this.priority}): discarded to preempt`);
  }

  private masterAdvert(out: StepBuilder, priority: number, intervalMs: number, from: string, cmp: -1 | 0 | 1): void {
    const higher = (p: number) => p > this.priority || (p === this.priority && cmp > 0);
    if (priority === PRIORITY_STOP || (this.config.higherPrioSendAdvert && higher(priority))) {
      this.advertise(out, this.priority);
      if (priority === PRIORITY_STOP) return out.note(`${from} sent priority 0: re-announced`);
    }
    if (priority === this.priority && cmp === 0) {
      return out.note(`advert from ${from} with our own address and priority; ignored`);
    }
    if (priority === this.priority && this.priority === PRIORITY_OWNER) {
      // Two owners is a configuration error; keepalived steps down to 254 so that one of them wins.
      this.basePriority = PRIORITY_OWNER - 1;
      this.priority = PRIORITY_OWNER - 1;
      out.note(`${from} also claims to own the addresses (priority 255): lowering ours to 254`);
    }
    if (!higher(priority)) {
      // Split brain ends fast: tell the lower priority router at once that a better master is here.
      if (!this.config.lowerPrioNoAdvert) this.advertise(out, this.priority);
      return out.note(`advert from ${from} priority ${priority} lower than ours (${this.priority})${this.config.lowerPrioNoAdvert ? '' : ': re-announced'}`);
    }
    if (this.config.version === 3) this.masterAdverInterval = intervalMs;
    this.lastMaster = from;
    const why =
      priority > this.priority
        ? `${from} has higher priority ${priority} than ours (${this.priority})`
        : `${from} has equal priority ${priority} and a higher address`;
    this.cancel(out, 'adver');
    this.preemptAt = null;
    this.toBackup(out, why);
  }

  private onTimer(out: StepBuilder, timer: VrrpTimer): void {
    const deadline = this.deadlines.get(timer);
    if (deadline === undefined) return out.note(`${timer} timer not armed; stale expiry ignored`);
    const now = this.clock.now();
    // Real timers (libuv, whole ms) can fire a fraction of a ms before a fractional deadline.
    if (now < deadline - TIMER_SLACK_MS) {
      out.push({ type: 'setTimer', timer, ms: deadline - now });
      return out.note(`${timer} timer fired ${deadline - now} ms early; re-armed`);
    }
    this.deadlines.delete(timer);
    if (timer === 'adver' && this.current === 'master') {
      this.advertise(out, this.priority);
      return out.note('advert interval elapsed');
    }
    if (timer === 'masterDown' && this.current === 'backup') {
      const why = this.lastMaster ? `no advert from master ${this.lastMaster} for ${this.masterDownIntervalMs} ms` : 'no master heard';
      if (this.config.inSyncGroup) {
        this.wantMaster = true;
        this.arm(out, 'masterDown', this.masterDownIntervalMs);
        return out.note(`${why}: wants master, waiting for the sync group`);
      }
      return this.goMaster(out, why);
    }
    out.note(`${timer} timer ignored in ${this.current}`);
  }

  private onTrackFault(out: StepBuilder, source: string, failed: boolean, why: string): void {
    const before = this.faults.size;
    if (failed) this.faults.set(source, why);
    else this.faults.delete(source);
    if (this.current === 'initialize') return out.note(`${why} (not running)`);
    if (before === 0 && this.faults.size > 0) return this.enterFault(out, why);
    if (before > 0 && this.faults.size === 0 && this.current === 'fault') {
      this.masterAdverInterval = this.config.advertIntervalMs;
      if (this.basePriority === PRIORITY_OWNER && !this.config.inSyncGroup) return this.goMaster(out, `${why}: address owner`);
      return this.toBackup(out, why);
    }
    out.note(this.faults.size > 0 ? `${why}; still failing: ${this.faultSummary()}` : why);
  }

  private onPriorityChanged(out: StepBuilder, weight: number, why: string): void {
    const next = effectivePriority(this.basePriority, weight);
    const before = this.priority;
    if (next === before) return out.note(`${why}: priority stays ${before}`);
    const oldDown = this.masterDownIntervalMs;
    this.priority = next;
    const deadline = this.deadlines.get('masterDown');
    if (this.current === 'backup' && deadline !== undefined) {
      // The skew changed: move the running master-down deadline by the difference (keepalived does).
      const moved = deadline + (this.masterDownIntervalMs - oldDown);
      this.deadlines.set('masterDown', moved);
      out.push({ type: 'setTimer', timer: 'masterDown', ms: Math.max(0, moved - this.clock.now()) });
    }
    out.note(`${why}: priority ${before} -> ${next}`);
  }

  private onSyncGroup(out: StepBuilder, to: 'master' | 'backup', why: string): void {
    if (to === 'master' && this.current === 'backup') return this.goMaster(out, why);
    if (to === 'backup' && this.current === 'master') {
      this.cancel(out, 'adver');
      return this.toBackup(out, why);
    }
    out.note(`sync group says ${to}; already ${this.current}`);
  }

  // --- transitions --------------------------------------------------------------------------

  private goMaster(out: StepBuilder, why: string): void {
    const from = this.current;
    this.cancel(out, 'masterDown');
    this.current = 'master';
    this.wantMaster = false;
    this.masterAdverInterval = this.config.advertIntervalMs;
    // keepalived advertises before adding the addresses, so the old master lets go before our ARPs.
    this.advertise(out, this.priority);
    out.push({ type: 'becomeMaster', from, why });
    out.transition(from, 'master', why);
  }

  private toBackup(out: StepBuilder, why: string, downMs = this.masterDownIntervalMs): void {
    const from = this.current;
    this.current = 'backup';
    this.wantMaster = false;
    out.push({ type: 'becomeBackup', from, why });
    this.arm(out, 'masterDown', downMs);
    out.transition(from, 'backup', why);
  }

  private enterFault(out: StepBuilder, why: string): void {
    const from = this.current;
    this.cancelAll(out);
    if (from === 'master') out.push({ type: 'sendAdvert', priority: PRIORITY_STOP });
    this.current = 'fault';
    this.wantMaster = false;
    this.preemptAt = null;
    out.push({ type: 'enterFault', from, why });
    out.transition(from, 'fault', why);
  }

  private advertise(out: StepBuilder, priority: number): void {
    out.push({ type: 'sendAdvert', priority });
    this.arm(out, 'adver', this.config.advertIntervalMs);
  }

  private arm(out: StepBuilder, timer: VrrpTimer, ms: number): void {
    this.deadlines.set(timer, this.clock.now() + ms);
    out.push({ type: 'setTimer', timer, ms });
  }

  private cancel(out: StepBuilder, timer: VrrpTimer): void {
    if (this.deadlines.delete(timer)) out.push({ type: 'cancelTimer', timer });
  }

  private cancelAll(out: StepBuilder): void {
    this.cancel(out, 'adver');
    this.cancel(out, 'masterDown');
  }

  private faultSummary(): string {
    return [...this.faults.values()].join('; ');
  }
}

class StepBuilder {
  private readonly actions: VrrpAction[] = [];
  private readonly notes: string[] = [];
  private change: VrrpStep['transition'];

  constructor(private readonly from: VrrpState) {}

  push(action: VrrpAction): void {
    this.actions.push(action);
  }
  note(text: string): void {
    this.notes.push(text);
  }
  transition(from: VrrpState, to: VrrpState, why: string): void {
    this.change = { from: this.change?.from ?? from, to, why };
  }
  build(state: VrrpState): VrrpStep {
    const why = [...this.notes, ...(this.change ? [`${this.change.from} -> ${this.change.to}: ${this.change.why}`] : [])].join('; ');
    return { state, actions: this.actions, why: why || `nothing to do in ${this.from}`, ...(this.change ? { transition: this.change } : {}) };
  }
}

function validateConfig(c: VrrpInstanceConfig): VrrpInstance['config'] {
  if (typeof c.name !== 'string' || c.name === '') throw new VrrpConfigError('name', 'must be a non-empty string');
  const at = (field: string) => `${c.name}.${field}`;
  if (c.version !== 2 && c.version !== 3) throw new VrrpConfigError(at('version'), `must be 2 or 3, got ${String(c.version)}`);
  if (c.family !== 'ipv4' && c.family !== 'ipv6') throw new VrrpConfigError(at('family'), `must be ipv4 or ipv6, got ${String(c.family)}`);
  if (c.version === 2 && c.family === 'ipv6') throw new VrrpConfigError(at('version'), 'VRRPv2 is IPv4 only; use version 3 for IPv6');
  if (!Number.isInteger(c.vrid) || c.vrid < 1 || c.vrid > 255) throw new VrrpConfigError(at('vrid'), `must be an integer 1..255, got ${c.vrid}`);
  if (!Number.isInteger(c.priority) || c.priority < 1 || c.priority > 255) {
    throw new VrrpConfigError(at('priority'), `must be an integer 1..255, got ${c.priority}`);
  }
  checkInterval(c.version, c.advertIntervalMs, at('advertIntervalMs'));
  const preempt = c.preempt ?? true;
  const preemptDelayMs = c.preemptDelayMs ?? 0;
  const initialState = c.initialState ?? 'backup';
  if (!Number.isFinite(preemptDelayMs) || preemptDelayMs < 0) {
    throw new VrrpConfigError(at('preemptDelayMs'), `must be a duration >= 0 ms, got ${preemptDelayMs}`);
  }
  if (c.priority === PRIORITY_OWNER && !preempt) {
    throw new VrrpConfigError(at('preempt'), 'an address owner (priority 255) always preempts; nopreempt needs a lower priority');
  }
  if (!preempt && preemptDelayMs > 0) throw new VrrpConfigError(at('preemptDelayMs'), 'has no meaning with preempt off');
  if (initialState === 'master' && (!preempt || preemptDelayMs > 0)) {
    throw new VrrpConfigError(at('initialState'), 'initial state master cannot be combined with nopreempt or a preempt delay');
  }
  if (initialState !== 'master' && initialState !== 'backup') {
    throw new VrrpConfigError(at('initialState'), `must be backup or master, got ${String(initialState)}`);
  }
  requireAddress(c.family, c.primaryAddress, at('primaryAddress'));
  return {
    name: c.name,
    version: c.version,
    family: c.family,
    vrid: c.vrid,
    priority: c.priority,
    advertIntervalMs: c.advertIntervalMs,
    primaryAddress: c.primaryAddress,
    preempt,
    preemptDelayMs,
    initialState,
    lowerPrioNoAdvert: c.lowerPrioNoAdvert ?? false,
    higherPrioSendAdvert: c.higherPrioSendAdvert ?? false,
    inSyncGroup: c.inSyncGroup ?? false,
  };
}

export function createVrrpInstance(config: VrrpInstanceConfig, deps: { clock: VrrpClock }): VrrpInstance {
  return new VrrpInstance(config, deps.clock);
}
