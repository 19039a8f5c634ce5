import type { EventDataInput, HealthCheckType } from '@fulcrum/schemas';
import { CheckState, formatPeer, runCheck, runRound } from '../checks/index.js';
import type { CheckResult, CheckSpec, Endpoint, Health, ProbeContext } from '../checks/index.js';
import { type Clock, systemClock } from './clock.js';
import { DueHeap } from './heap.js';
import type { ServerTarget } from './targets.js';

/** Runs one round of a check (its probes in order); the real one is runRound. */
export type RoundRunner = (target: Endpoint, probes: readonly CheckSpec[], ctx: ProbeContext) => Promise<CheckResult>;

/** What the engine tells the world: a health event's data (state, previous, weight, checks, reason). */
export type HealthReport = EventDataInput<'health'>;

/** Per-check observations, for metrics; a no-op by default. */
export interface EngineObserver {
  checkDone(type: HealthCheckType, result: CheckResult): void;
  serverState(virtualService: string, realServer: Endpoint, state: Health): void;
  serverRemoved(virtualService: string, realServer: Endpoint): void;
  /** Checks due but waiting for a free slot (bounded concurrency). */
  waiting(count: number): void;
}

export interface EngineOptions {
  /** Called on every reported change of a real server: first state, up/down, dynamic weight. */
  onReport: (report: HealthReport) => void;
  /** Called when a real server is no longer checked (its service or the server left the desired state). */
  onRemoved?: (virtualService: string, realServer: Endpoint) => void;
  /** Probes in flight at most; further due checks wait their turn. */
  maxInFlight?: number;
  clock?: Clock;
  random?: () => number;
  run?: RoundRunner;
  observer?: EngineObserver;
}

export const DEFAULT_MAX_IN_FLIGHT = 4096;

/** A report's message and a check's failure message must fit the event schema. */
const MAX_TEXT = 500;
const clip = (s: string): string => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 3)}...` : s);

/** One configured check of one real server, as it lives in the scheduler. */
class ScheduledCheck {
  due = 0;
  heapIndex = -1;
  running = false;
  removed = false;
  readonly state: CheckState;
  readonly ctx: ProbeContext;
  private readonly abort = new AbortController();
  /** Bound once, so a round allocates nothing of its own besides the probe's promise. */
  readonly done: (result: CheckResult) => void;
  /** Probes never reject; a runner that does is a bug, counted as a failed round rather than a dead check. */
  readonly failed: (err: unknown) => void;

  constructor(
    readonly server: ServerEntry,
    readonly type: HealthCheckType,
    readonly target: Endpoint,
    readonly probes: readonly CheckSpec[],
    state: CheckState,
    engine: HealthEngine,
  ) {
    this.state = state;
    this.ctx = { signal: this.abort.signal };
    this.done = (result) => engine.complete(this, result);
    this.failed = (err) => engine.complete(this, { ok: false, reason: 'error', message: err instanceof Error ? err.message : String(err), latencyMs: 0 });
  }

  cancel(): void {
    this.removed = true;
    this.abort.abort();
  }
}

/** A real server and its checks; up only while every check is. */
class ServerEntry {
  checks: ScheduledCheck[] = [];
  /** What was last reported; 'unknown' until every check has a first result. */
  reported: Health | 'unknown' = 'unknown';
  reportedWeight: number | undefined;
  constructor(readonly target: ServerTarget) {}
}

export class EngineError extends Error {
  override name = 'EngineError';
}

/**
 * The health-check scheduler: one heap of next-due checks and one timer for all of them. Each check
 * follows keepalived's schedule (CheckState), rescheduled when its own probe completes, so a slow
 * check never delays another's; at most `maxInFlight` probes run at once and due checks queue in
 * order behind them. Warmup scatters first checks over the interval so thousands do not fire together.
 */
export class HealthEngine {
  private readonly servers = new Map<string, ServerEntry>();
  private readonly heap = new DueHeap<ScheduledCheck>();
  private readonly queue: (ScheduledCheck | undefined)[] = [];
  private queueHead = 0;
  private inFlight = 0;
  private timer: unknown = null;
  private armedFor = Infinity;
  private stopped = false;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly run: RoundRunner;
  private readonly maxInFlight: number;

  constructor(private readonly opts: EngineOptions) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.run = opts.run ?? runPlanned;
    this.maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) {
      throw new EngineError(`maxInFlight must be an integer >= 1, got ${this.maxInFlight}`);
    }
  }

  /** Real servers under check. */
  get size(): number {
    return this.servers.size;
  }

  /** Probes running now. */
  get running(): number {
    return this.inFlight;
  }

  /** The last reported state of a server by key, or undefined when it is not checked. */
  stateOf(key: string): Health | 'unknown' | undefined {
    return this.servers.get(key)?.reported;
  }

  /**
   * Makes `targets` the set of servers under check: new ones start (after their warmup), gone ones
   * stop (their probes aborted), changed ones restart with fresh check state; unchanged ones keep
   * running untouched.
   */
  setTargets(targets: readonly ServerTarget[]): void {
    if (this.stopped) return;
    const wanted = new Map(targets.map((t) => [t.key, t]));
    for (const [key, entry] of this.servers) {
      const next = wanted.get(key);
      if (next === undefined) {
        this.dropServer(entry);
        this.servers.delete(key);
        this.opts.observer?.serverRemoved(entry.target.virtualService, entry.target.realServer);
        this.opts.onRemoved?.(entry.target.virtualService, entry.target.realServer);
      } else if (next.fingerprint !== entry.target.fingerprint) {
        this.dropServer(entry);
        const fresh = this.addServer(next);
        // The world already knows the old state; the next report says how it changed.
        fresh.reported = entry.reported;
        fresh.reportedWeight = entry.reportedWeight;
      }
    }
    for (const t of targets) if (!this.servers.has(t.key)) this.addServer(t);
    this.arm();
  }

  /** Stops every check and aborts the probes in flight. */
  stop(): void {
    this.stopped = true;
    for (const entry of this.servers.values()) this.dropServer(entry);
    this.servers.clear();
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
  }

  private addServer(target: ServerTarget): ServerEntry {
    const entry = new ServerEntry(target);
    const now = this.clock.now();
    for (const { type, plan } of target.checks) {
      const state = new CheckState(plan.schedule, this.random);
      const check = new ScheduledCheck(entry, type, plan.target, plan.probes, state, this);
      check.due = state.start(now);
      entry.checks.push(check);
      this.heap.push(check);
    }
    this.servers.set(target.key, entry);
    return entry;
  }

  private dropServer(entry: ServerEntry): void {
    for (const c of entry.checks) {
      c.cancel();
      this.heap.remove(c);
    }
  }

  /** Keeps one timer, armed for the earliest due check. */
  private arm(): void {
    if (this.stopped) return;
    const top = this.heap.peek();
    if (top === undefined) return;
    if (this.timer !== null) {
      if (this.armedFor <= top.due) return;
      this.clock.clearTimer(this.timer);
    }
    this.armedFor = top.due;
    this.timer = this.clock.setTimer(this.tick, Math.max(0, top.due - this.clock.now()));
  }

  private readonly tick = (): void => {
    this.timer = null;
    this.armedFor = Infinity;
    const now = this.clock.now();
    for (let top = this.heap.peek(); top !== undefined && top.due <= now; top = this.heap.peek()) {
      this.heap.pop();
      this.launch(top);
    }
    this.arm();
  };

  private launch(check: ScheduledCheck): void {
    if (this.inFlight >= this.maxInFlight) {
      this.queue.push(check);
      this.opts.observer?.waiting(this.queue.length - this.queueHead);
      return;
    }
    this.inFlight += 1;
    check.running = true;
    this.run(check.target, check.probes, check.ctx).then(check.done, check.failed);
  }

  /** A round finished: feed the state, reschedule, report a change, and let a queued check run. */
  complete(check: ScheduledCheck, result: CheckResult): void {
    this.inFlight -= 1;
    check.running = false;
    if (!check.removed && !this.stopped) {
      const now = this.clock.now();
      this.opts.observer?.checkDone(check.type, result);
      const step = check.state.record(result, now, check.due);
      check.due = step.nextAt;
      this.heap.push(check);
      this.maybeReport(check.server);
    }
    this.drainQueue();
    this.arm();
  }

  private drainQueue(): void {
    while (this.inFlight < this.maxInFlight && this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead];
      this.queue[this.queueHead] = undefined;
      this.queueHead += 1;
      if (next !== undefined && !next.removed) this.launch(next);
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
  }

  private maybeReport(entry: ServerEntry): void {
    let state: Health = 'up';
    for (const c of entry.checks) {
      if (c.state.lastResult === undefined) return; // not every check has spoken yet
      if (c.state.state === 'down') state = 'down';
    }
    const weight = state === 'up' ? adjustedWeight(entry) : undefined;
    if (state === entry.reported && weight === entry.reportedWeight) return;
    const previous = entry.reported;
    entry.reported = state;
    entry.reportedWeight = weight;
    const t = entry.target;
    this.opts.observer?.serverState(t.virtualService, t.realServer, state);
    this.opts.onReport({
      virtualService: t.virtualService,
      realServer: { address: t.realServer.address, port: t.realServer.port },
      state,
      previous,
      ...(weight !== undefined ? { weight } : {}),
      checks: entry.checks.map((c) => {
        const r = c.state.lastResult as CheckResult;
        return r.ok ? { type: c.type, ok: true } : { type: c.type, ok: false, message: clip(`${r.reason}: ${r.message}`) };
      }),
      reason: clip(reasonOf(entry, state)),
    });
  }
}

/** The weight the checks ask for: a script's dynamic weight wins, else the configured weight plus file adjustments. */
function adjustedWeight(entry: ServerEntry): number | undefined {
  let absolute: number | undefined;
  let delta = 0;
  let adjusted = false;
  for (const c of entry.checks) {
    if (c.state.weight !== undefined) absolute = c.state.weight;
    if (c.state.weightDelta !== undefined) {
      delta += c.state.weightDelta;
      adjusted = true;
    }
  }
  if (absolute === undefined && !adjusted) return undefined;
  const w = (absolute ?? entry.target.weight) + delta;
  return Math.min(65535, Math.max(0, Math.round(w)));
}

function reasonOf(entry: ServerEntry, state: Health): string {
  const rs = formatPeer(entry.target.realServer.address, entry.target.realServer.port);
  if (state === 'up') {
    const n = entry.checks.length;
    return `${rs}: ${n === 1 ? `the ${entry.checks[0]?.type} check passes` : `all ${n} checks pass`}`;
  }
  const failing = entry.checks.filter((c) => c.state.state === 'down');
  return `${rs}: ${failing
    .map((c) => {
      const r = c.state.lastResult;
      return `${c.type} check failed${r && !r.ok ? ` (${r.reason}): ${r.message}` : ''}`;
    })
    .join('; ')}`;
}

/** The real runner: a single probe goes straight to its check, several walk in order. */
export function runPlanned(target: Endpoint, probes: readonly CheckSpec[], ctx: ProbeContext): Promise<CheckResult> {
  if (probes.length === 1) return runCheck(target, probes[0] as CheckSpec, ctx);
  return runRound(target, probes, ctx);
}
