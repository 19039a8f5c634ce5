import type { IpvsControl, IpvsDump, IpvsOp, IpvsOpResult } from '@fulcrum/netlink';
import { describeOp, dumpToTable } from '@fulcrum/netlink';
import type { CommandReply, EventDataInput, RealServerRef, VirtualService } from '@fulcrum/schemas';
import { errorReply, okReply } from '@fulcrum/schemas';
import type { Logger } from '@fulcrum/runtime';
import { diffTables, pendingId } from './diff.js';
import type { HealthState, Overlays } from './effective.js';
import { EffectiveCache, effectiveTable, realServerKey } from './effective.js';
import type { DirectorMetrics } from './metrics.js';
import type { ModelService, TableModel } from './table-model.js';
import { applyToModel, countDestinations, toModel } from './table-model.js';

// The director's loop. One dump at start (adopt what the kernel holds, never flush), then every
// pass diffs the effective table against a cached copy of the kernel's table, so a pass that
// changes nothing costs no kernel call and one changed weight is one write. The cache is kept true
// by applying accepted writes to it; a failed write or a drift check (a dump every
// `driftCheckMs`) replaces it with a fresh dump. Nothing is written before the desired state has
// been loaded once: an agent started without it leaves the kernel alone.

export interface ReconcilerOptions {
  ipvs: IpvsControl;
  logger: Logger;
  /** Dump and repair what someone changed by hand every this many ms; 0 = never. */
  driftCheckMs?: number;
  /** How long a removed real server stays at weight 0 before it is deleted; 0 = delete at once. */
  drainMs?: number;
  /** Bursts of desired-state changes within this many ms become one pass. */
  coalesceMs?: number;
  /** Retry after failed writes after this many ms. */
  retryMs?: number;
  now?: () => number;
  metrics?: DirectorMetrics;
  /** Called after every pass that wrote something or failed to (the ipvs-applied event). */
  onApplied?: (data: EventDataInput<'ipvs-applied'>) => void;
}

export interface PassResult {
  ops: IpvsOp[];
  failures: IpvsOpResult[];
  durationMs: number;
}

const EMPTY: PassResult = { ops: [], failures: [], durationMs: 0 };

export class Reconciler {
  private readonly ipvs: IpvsControl;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly driftCheckMs: number;
  private readonly drainMs: number;
  private readonly coalesceMs: number;
  private readonly retryMs: number;
  private readonly desired = new Map<string, VirtualService>();
  private desiredLoaded = false;
  private revision: number | null = null;
  private readonly health = new Map<string, HealthState>();
  private readonly drained = new Set<string>();
  private readonly lagging = new Set<string>();
  private quorum = new Map<string, boolean>();
  /** Effective results of unchanged virtual services; forgotten wherever an input changes. */
  private readonly effective = new EffectiveCache();
  /** The last full effective table, reused by full passes until an input changes (invalidate()). */
  private lastFull: TableModel | null = null;
  /** Services the last diffs found equal (see DiffOptions.verified). */
  private readonly verified = new Map<string, { have: ModelService; want: ModelService }>();
  /** The kernel's table as far as we know; null = dump before the next diff. */
  private current: TableModel | null = null;
  private readonly drainStarted = new Map<string, number>();
  /** Virtual services changed since the last pass; the next pass looks at these only... */
  private readonly dirty = new Set<string>();
  /** ...unless this is set (start, full reads, drift checks, failures, drain timers). */
  private fullPass = true;
  /** The kernel service id each virtual service produced in the last pass. */
  private owners = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private passTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private driftTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: ReconcilerOptions) {
    this.ipvs = opts.ipvs;
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.driftCheckMs = opts.driftCheckMs ?? 10_000;
    this.drainMs = opts.drainMs ?? 0;
    this.coalesceMs = opts.coalesceMs ?? 20;
    this.retryMs = opts.retryMs ?? 5_000;
  }

  /** Adopts the kernel's table (one dump) and starts the drift checks. */
  async start(): Promise<void> {
    await this.enqueue(async () => {
      const dump = await this.ipvs.dump();
      this.adopt(dump);
      this.log.info({ services: this.current?.size ?? 0, destinations: countDestinations(this.current ?? new Map()) }, 'adopted the kernel table');
    });
    if (this.driftCheckMs > 0) this.armDriftCheck();
  }

  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.passTimer);
    clearTimeout(this.wakeTimer);
    clearTimeout(this.driftTimer);
    return this.queue.then(() => undefined);
  }

  // ---- inputs -------------------------------------------------------------------------------

  /** Replaces the whole desired state (a full read of the bucket) and reconciles. */
  setDesired(services: Iterable<VirtualService>, revision: number | null): Promise<PassResult> {
    this.desired.clear();
    this.invalidate();
    for (const vs of services) this.desired.set(vs.id, vs);
    this.desiredLoaded = true;
    this.revision = revision;
    this.fullPass = true;
    return this.enqueue(() => this.pass());
  }

  /** One virtual service written; passes are coalesced. */
  putService(vs: VirtualService, revision: number): void {
    this.desired.set(vs.id, vs);
    this.invalidate(vs.id);
    this.dirty.add(vs.id);
    this.revision = Math.max(this.revision ?? 0, revision);
    this.schedule();
  }

  deleteService(id: string, revision: number): void {
    this.desired.delete(id);
    this.invalidate(id);
    this.dirty.add(id);
    this.revision = Math.max(this.revision ?? 0, revision);
    this.schedule();
  }

  /** What the health-checker says about a real server. */
  setHealth(virtualService: string, address: string, port: number, health: HealthState): void {
    const key = realServerKey(virtualService, address, port);
    const before = this.health.get(key);
    if (before?.state === health.state && before.weight === health.weight) return;
    this.health.set(key, health);
    this.invalidate(virtualService);
    this.dirty.add(virtualService);
    this.schedule();
  }

  /** Replicas that are behind (weight 0), replacing the previous set. */
  setLagging(servers: Iterable<{ virtualService: string; address: string; port: number }>): void {
    this.lagging.clear();
    for (const s of servers) this.lagging.add(realServerKey(s.virtualService, s.address, s.port));
    this.invalidate();
    this.fullPass = true;
    this.schedule();
  }

  /** Operator drain: weight 0 at once; the reply says whether the kernel took it. */
  drain(ref: RealServerRef): Promise<CommandReply> {
    return this.operatorCommand(ref, true);
  }

  enable(ref: RealServerRef): Promise<CommandReply> {
    return this.operatorCommand(ref, false);
  }

  /** Drained real server keys (for status). */
  drainedServers(): string[] {
    return [...this.drained];
  }

  /** Runs a full pass now (after anything queued): every virtual service recomputed and compared. */
  reconcileNow(): Promise<PassResult> {
    return this.enqueue(() => {
      this.fullPass = true;
      return this.pass();
    });
  }

  /** Dumps the kernel, logs what differs from what the agent last wrote, and repairs it. */
  checkDrift(): Promise<PassResult> {
    return this.enqueue(async () => {
      const started = this.now();
      const dump = await this.ipvs.dump();
      const found = toModel(dumpToTable(dump));
      this.opts.metrics?.updateFromDump(dump);
      if (this.current) {
        // What someone else did, as the ops that would turn our copy into what the kernel holds.
        const changed = diffTables(this.current, found, { drainBeforeRemove: false });
        for (const op of changed.ops) this.log.warn({ change: op.op, object: describeOp(op) }, 'kernel table changed outside the agent');
        if (changed.ops.length > 0) this.opts.metrics?.drift.inc(changed.ops.length);
      }
      this.current = found;
      this.fullPass = true;
      this.opts.metrics?.passes.observe({ kind: 'drift' }, (this.now() - started) / 1000);
      return this.pass();
    });
  }

  // ---- the pass -----------------------------------------------------------------------------

  /** An input of the effective table changed: for one virtual service, or (no id) for any. */
  private invalidate(virtualService?: string): void {
    this.lastFull = null;
    if (virtualService === undefined) this.effective.clear();
    else this.effective.forget(virtualService);
  }

  private adopt(dump: IpvsDump): void {
    this.current = toModel(dumpToTable(dump));
    this.opts.metrics?.updateFromDump(dump);
  }

  private overlays(): Overlays {
    return { health: this.health, drained: this.drained, lagging: this.lagging };
  }

  private async pass(): Promise<PassResult> {
    if (!this.desiredLoaded || this.stopped) return EMPTY;
    const started = this.now();
    if (!this.current) this.adopt(await this.ipvs.dump());
    const current = this.current as TableModel;
    const scope = this.scope(current);
    const now = this.now();
    const diff = diffTables(scope.current, scope.wanted, {
      verified: this.verified,
      drainBeforeRemove: this.drainMs > 0,
      mayRemove: (key, d) => {
        if (this.drainMs === 0) return true;
        const since = this.drainStarted.get(pendingId(key, d));
        return since !== undefined && now - since >= this.drainMs;
      },
    });
    const draining = new Set<string>();
    for (const p of diff.pending) {
      draining.add(p.id);
      if (!this.drainStarted.has(p.id)) this.drainStarted.set(p.id, now);
    }
    for (const id of this.drainStarted.keys()) {
      const inScope = scope.keys === null || scope.keys.has(id.slice(0, id.indexOf('#')));
      if (inScope && !draining.has(id)) this.drainStarted.delete(id);
    }
    this.armWake(now);
    if (diff.ops.length === 0) return EMPTY;

    const results = await this.ipvs.apply(diff.ops);
    const failures: IpvsOpResult[] = [];
    for (const r of results) {
      this.opts.metrics?.writes.inc({ op: r.op.op, result: r.ok ? 'ok' : 'error' });
      if (r.ok) applyToModel(current, r.op);
      else failures.push(r);
    }
    const durationMs = this.now() - started;
    this.opts.metrics?.passes.observe({ kind: 'apply' }, durationMs / 1000);
    const logged = { ops: diff.ops.length, ...diff.changes, failed: failures.length, durationMs, desiredRevision: this.revision };
    if (diff.ops.length <= 20) Object.assign(logged, { changes: diff.ops.map((op) => `${op.op} ${describeOp(op)}`) });
    this.log.info(logged, 'kernel table updated');
    for (const f of failures) if (!f.ok) this.log.error({ err: f.error, op: f.op.op, object: describeOp(f.op) }, 'kernel refused a write');
    if (failures.length > 0) {
      // Our copy may be wrong now (e.g. someone added the same entry): read the kernel again, later.
      this.current = null;
      this.fullPass = true;
      this.armRetry();
    }
    this.opts.onApplied?.({
      desiredRevision: this.revision,
      services: current.size,
      destinations: countDestinations(current),
      changes: diff.changes,
      durationMs,
      failures: failures.map((f) => ({ operation: `${f.op.op} ${describeOp(f.op)}`.slice(0, 300), message: f.ok ? '' : f.error.message.slice(0, 500) })),
    });
    return { ops: diff.ops, failures, durationMs };
  }

  /**
   * What this pass compares: everything (full pass), or only the kernel services of the virtual
   * services changed since the last pass, so one changed weight in a large table costs one
   * service's work. A change that touches a key another virtual service owns falls back to full.
   */
  private scope(current: TableModel): { current: TableModel; wanted: TableModel; keys: Set<string> | null } {
    const ids = [...this.dirty];
    const full = this.fullPass;
    this.fullPass = false;
    this.dirty.clear();
    if (!full) {
      const subset = ids.flatMap((id) => this.desired.get(id) ?? []);
      const eff = effectiveTable(subset, this.overlays(), this.quorum, new Map(), this.effective);
      const holder = new Map([...this.owners].map(([vs, key]) => [key, vs]));
      const changed = new Set(ids);
      const clash = eff.conflicts.length > 0 || [...eff.owners].some(([vs, key]) => holder.has(key) && holder.get(key) !== vs && !changed.has(holder.get(key) as string));
      if (!clash) {
        const keys = new Set<string>(eff.table.keys());
        for (const id of ids) {
          const old = this.owners.get(id);
          if (old !== undefined) keys.add(old);
          this.owners.delete(id);
          this.noteQuorum(id, eff.quorum.get(id));
        }
        for (const [vs, key] of eff.owners) this.owners.set(vs, key);
        this.lastFull = null;
        const view: TableModel = new Map();
        for (const k of keys) {
          const have = current.get(k);
          if (have) view.set(k, have);
        }
        return { current: view, wanted: eff.table, keys };
      }
    }
    if (this.lastFull) return { current, wanted: this.lastFull, keys: null };
    const eff = effectiveTable(this.desired.values(), this.overlays(), this.quorum, this.owners, this.effective);
    for (const c of eff.conflicts) this.log.error(c, 'virtual service left out: another one has the same address, port and protocol (or mark)');
    let quorumMoved = false;
    for (const [id, up] of eff.quorum) quorumMoved = this.noteQuorum(id, up) || quorumMoved;
    for (const id of this.quorum.keys()) if (!eff.quorum.has(id)) quorumMoved = this.noteQuorum(id, undefined) || quorumMoved;
    this.owners = eff.owners;
    // A moved quorum is an input of the next pass (hysteresis): that one computes again.
    this.lastFull = quorumMoved ? null : eff.table;
    return { current, wanted: eff.table, keys: null };
  }

  /** Records a virtual service's quorum; true when it differs from what the last pass had. */
  private noteQuorum(id: string, up: boolean | undefined): boolean {
    const before = this.quorum.get(id);
    if (up === undefined) {
      this.quorum.delete(id);
      return before !== undefined;
    }
    if (before !== undefined && before !== up) this.log.warn({ virtualService: id, quorum: up ? 'up' : 'lost' }, up ? 'quorum regained' : 'quorum lost');
    this.quorum.set(id, up);
    return before !== up;
  }

  private async operatorCommand(ref: RealServerRef, drain: boolean): Promise<CommandReply> {
    const vs = this.desired.get(ref.virtualService);
    if (!vs) return errorReply('NOT_FOUND', `virtual service ${ref.virtualService} is not in this director's desired state`);
    const key = realServerKey(vs.id, ref.address, ref.port);
    if (!vs.realServers.some((rs) => realServerKey(vs.id, rs.address, rs.port) === key)) {
      return errorReply('NOT_FOUND', `virtual service ${vs.id} has no real server ${ref.address} port ${ref.port}`);
    }
    const was = this.drained.has(key);
    if (drain) this.drained.add(key);
    else this.drained.delete(key);
    this.invalidate(vs.id);
    this.dirty.add(vs.id);
    this.log.info({ virtualService: vs.id, address: ref.address, port: ref.port, reason: ref.reason }, drain ? 'real server drained' : 'real server enabled');
    let result: PassResult;
    try {
      result = await this.enqueue(() => this.pass());
    } catch (err) {
      this.log.error({ err }, 'pass after an operator command failed');
      return errorReply('UNAVAILABLE', `the kernel table could not be updated: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (result.failures.length > 0) {
      const first = result.failures[0];
      return errorReply('INTERNAL', `the kernel refused ${result.failures.length} write(s): ${first && !first.ok ? first.error.message : ''}`.slice(0, 1000));
    }
    const what = drain ? 'drained (weight 0, existing connections finish)' : 'enabled (configured weight, if healthy)';
    const note = was === drain ? ' (it already was)' : '';
    return okReply(`${ref.address} port ${ref.port} of ${vs.id} ${what}${note}`);
  }

  // ---- scheduling ---------------------------------------------------------------------------

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private runQueued(what: string, work: () => Promise<unknown>): void {
    this.enqueue(work).catch((err: unknown) => {
      this.log.error({ err }, `${what} failed; retrying`);
      this.current = null;
      this.fullPass = true;
      this.armRetry();
    });
  }

  private schedule(): void {
    if (this.passTimer || this.stopped) return;
    this.passTimer = setTimeout(() => {
      this.passTimer = undefined;
      this.runQueued('reconcile pass', () => this.pass());
    }, this.coalesceMs);
    this.passTimer.unref?.();
  }

  private armRetry(): void {
    if (this.stopped) return;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.runQueued('reconcile retry', () => ((this.fullPass = true), this.pass())), this.retryMs);
    this.wakeTimer.unref?.();
  }

  /** Wakes up when the earliest draining destination may be removed. */
  private armWake(now: number): void {
    if (this.drainStarted.size === 0 || this.stopped) return;
    const due = Math.min(...this.drainStarted.values()) + this.drainMs;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.runQueued('reconcile pass', () => ((this.fullPass = true), this.pass())), Math.max(0, due - now));
    this.wakeTimer.unref?.();
  }

  private armDriftCheck(): void {
    if (this.stopped) return;
    this.driftTimer = setTimeout(() => {
      this.checkDrift()
        .catch((err: unknown) => this.log.error({ err }, 'drift check failed'))
        .finally(() => this.armDriftCheck());
    }, this.driftCheckMs);
    this.driftTimer.unref?.();
  }
}
