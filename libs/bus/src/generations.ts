import type { Logger } from 'pino';
import type { Bus, BusStateEvent } from './bus.js';
import { keyMatches } from './codec.js';
import { type CommitRecord, GENERATION_KEY } from './commit-log.js';
import { BusError } from './errors.js';
import type { Store, StoreChange, StoreEntry, StoreWatch } from './store.js';

// Agents apply the desired state generation by generation: config-api writes a commit's keys one by one and then
// the commit log's `generation` key naming the last desired revision the commit includes. Changes are held here
// until a generation covers them, so that a consumer sees a transaction whole or not yet, never a part (README.md).

/** Why a batch was handed out. */
export type BatchRelease =
  /** A generation covers every change in it. */
  | 'generation'
  /** No generation came within the hold (a writer outside config-api, or one that died half way): logged. */
  | 'hold-expired'
  /** No commit log to follow (config-api has not made it, or NATS does not allow reading it): changes as they come. */
  | 'no-commit-log';

export interface GenerationBatch<T> {
  /** The first batch: `state` is the whole store; `changes` lists it as puts. */
  readonly snapshot: boolean;
  /** Changes of the keys asked for, in revision order (never empty, except a snapshot of an empty store). */
  readonly changes: readonly StoreChange<T>[];
  /** The keys asked for after this batch. Live: it moves on when the next batch is taken. */
  readonly state: ReadonlyMap<string, StoreEntry<T>>;
  /** The desired-store revision the state reflects. */
  readonly revision: number;
  /** The latest generation seen when it was released (null: none yet). */
  readonly generation: number | null;
  readonly release: BatchRelease;
}

export interface GenerationWatch<T> extends AsyncIterable<GenerationBatch<T>> {
  /** The revision of the last batch handed out (0 before the snapshot). */
  readonly revision: number;
  /** Ends the iteration. */
  stop(): void;
}

export interface GenerationWatchOptions {
  /**
   * Opens the commit log (config-api's `fulcrum-commits`). When it fails (the bucket does not exist yet, NATS does
   * not let this user read it) changes are released as they come, and it is tried again after `retryCommitsMs`
   * (default 10 s), then twice as long each time, up to 5 minutes.
   */
  openCommits: () => Promise<Store<CommitRecord>>;
  /** Keys or wildcards of the desired store to follow (all by default); the rest is left out of the batches. */
  keys?: string | string[];
  /**
   * How long changes wait for a generation after the last of them arrived (default 5000 ms); in any case they are
   * released after 12 times that. Time while `link` is disconnected does not count.
   */
  holdMs?: number;
  retryCommitsMs?: number;
  logger: Logger;
  /** The connection: while it is down, held changes keep waiting (their generation comes after the reconnect). */
  link?: Pick<Bus, 'onStateChange'>;
}

const DEFAULT_HOLD_MS = 5000;
const HOLD_CAP_FACTOR = 12;
const DEFAULT_RETRY_COMMITS_MS = 10_000;
const MAX_RETRY_COMMITS_MS = 300_000;
const KEYS_LOGGED = 10;

interface Pending<T> {
  changes: StoreChange<T>[];
  revision: number;
  release: BatchRelease;
}

class GenerationFollower<T> implements GenerationWatch<T> {
  private readonly wanted: (key: string) => boolean;
  private readonly holdMs: number;
  private readonly log: Logger;
  private readonly generator: AsyncGenerator<GenerationBatch<T>>;
  private readonly state = new Map<string, StoreEntry<T>>();
  /** Released, not yet handed out. */
  private readonly ready: Pending<T>[] = [];
  /** Delivered by the desired watch, waiting for a generation. */
  private held: StoreChange<T>[] = [];
  /** The desired watch's position: every change up to it has been delivered (all keys). */
  private seen = 0;
  /** The highest revision a generation covers. */
  private covered = 0;
  private generation: number | null = null;
  private following = false;
  private handedOut = 0;
  private stopped = false;
  private failure: unknown = null;
  private connected = true;
  private heldSince = 0;
  private holdTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = 0;
  private wake: (() => void) | null = null;
  private desiredWatch: StoreWatch<T> | undefined;
  private commitWatch: StoreWatch<CommitRecord> | undefined;
  private offLink: (() => void) | undefined;

  constructor(
    private readonly desired: Store<T>,
    private readonly opts: GenerationWatchOptions,
  ) {
    const keys = opts.keys === undefined ? [] : Array.isArray(opts.keys) ? opts.keys : [opts.keys];
    if (opts.keys !== undefined && keys.length === 0) throw new BusError('watchGenerations: keys must name at least one key or pattern');
    this.wanted = keys.length === 0 ? () => true : (key) => keys.some((k) => keyMatches(k, key));
    this.holdMs = opts.holdMs ?? DEFAULT_HOLD_MS;
    this.log = opts.logger.child({ component: 'generations', bucket: desired.bucket });
    this.generator = this.batches();
  }

  get revision(): number {
    return this.handedOut;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.holdTimer);
    clearTimeout(this.retryTimer);
    this.offLink?.();
    this.desiredWatch?.stop();
    this.commitWatch?.stop();
    this.signal();
    void this.generator.return(undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<GenerationBatch<T>> {
    return this.generator;
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private until(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      t.unref?.();
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async *batches(): AsyncGenerator<GenerationBatch<T>> {
    try {
      if (this.opts.link) this.offLink = this.opts.link.onStateChange((e) => this.onLink(e));
      await this.openCommitLog();
      const snap = await this.desired.readAll();
      if (this.stopped) return;
      this.seen = snap.revision;
      this.pumpDesired(snap.revision);
      const release = await this.waitForSnapshot(snap.revision);
      if (this.stopped) return;
      for (const [key, e] of snap.entries) if (this.wanted(key)) this.state.set(key, e);
      // The generation the snapshot waited for may cover more (the rest of the commit it caught half way):
      // that goes into the snapshot, so the first thing handed out is whole too.
      let revision = snap.revision;
      for (const next of this.ready.splice(0)) {
        this.apply(next.changes);
        revision = next.revision;
      }
      const changes: StoreChange<T>[] = [...this.state].map(([key, e]) => ({ op: 'put', key, value: e.value, revision: e.revision }));
      changes.sort((a, b) => a.revision - b.revision);
      this.handedOut = revision;
      yield this.batch(true, changes, revision, release);
      while (!this.stopped) {
        const next = this.ready.shift();
        if (next) {
          this.apply(next.changes);
          this.handedOut = next.revision;
          yield this.batch(false, next.changes, next.revision, next.release);
          continue;
        }
        if (this.failure !== null) throw this.failure;
        await this.until(60_000);
      }
    } finally {
      this.stop();
    }
  }

  private apply(changes: readonly StoreChange<T>[]): void {
    for (const c of changes) {
      if (c.op === 'put') this.state.set(c.key, { value: c.value, revision: c.revision });
      else this.state.delete(c.key);
    }
  }

  private batch(snapshot: boolean, changes: StoreChange<T>[], revision: number, release: BatchRelease): GenerationBatch<T> {
    return { snapshot, changes, state: this.state, revision, generation: this.generation, release };
  }

  /**
   * A snapshot read while a commit was being written holds part of it: wait for the generation that covers it
   * (bounded: a write outside config-api never gets one).
   */
  private async waitForSnapshot(revision: number): Promise<BatchRelease> {
    if (!this.following) return 'no-commit-log';
    const deadline = Date.now() + this.holdMs;
    // Also until the watch has delivered what that generation covers: it goes into the snapshot (batches()).
    while ((this.covered < revision || this.seen < this.covered) && !this.stopped) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.log.warn({ revision, covered: this.covered, waitedMs: this.holdMs }, 'the desired state has writes no generation covers: using it as it is');
        return 'hold-expired';
      }
      await this.until(left);
    }
    return 'generation';
  }

  private async openCommitLog(): Promise<void> {
    let commits: Store<CommitRecord>;
    let current;
    try {
      commits = await this.opts.openCommits();
      current = await commits.get(GENERATION_KEY);
    } catch (err) {
      if (this.stopped) return;
      const first = this.opts.retryCommitsMs ?? DEFAULT_RETRY_COMMITS_MS;
      // Backs off: a user NATS does not allow to read the log gets a permissions error logged on every try.
      const retryMs = this.retryTimer === undefined ? first : Math.min(this.retryMs * 2, Math.max(first, MAX_RETRY_COMMITS_MS));
      this.retryMs = retryMs;
      if (this.retryTimer === undefined) {
        this.log.warn({ err, retryInSeconds: retryMs / 1000 }, 'no commit log: applying desired-state changes as they come, without the all-at-once guarantee');
      }
      this.retryTimer = setTimeout(() => void this.openCommitLog(), retryMs);
      this.retryTimer.unref?.();
      return;
    }
    if (this.stopped) return;
    if (current?.value.kind === 'generation') this.noteGeneration(current.value.generation, current.value.revision);
    if (this.retryTimer !== undefined) this.log.info({ covered: this.covered }, 'commit log found: changes are applied generation by generation from now on');
    this.following = true;
    const watch = commits.watch({ fromRevision: current?.revision ?? 0, keys: GENERATION_KEY });
    this.commitWatch = watch;
    void (async () => {
      for await (const c of watch) {
        if (c.op === 'put' && c.value.kind === 'generation') this.noteGeneration(c.value.generation, c.value.revision);
      }
    })().catch((err: unknown) => this.fail(err));
  }

  private noteGeneration(generation: number, revision: number): void {
    this.generation = generation;
    this.covered = Math.max(this.covered, revision);
    this.release();
    this.signal();
  }

  private pumpDesired(fromRevision: number): void {
    const watch = this.desired.watch({ fromRevision });
    this.desiredWatch = watch;
    void (async () => {
      for await (const c of watch) {
        this.seen = c.revision;
        this.held.push(c);
        this.armHold(true);
        this.release();
        this.signal();
      }
      if (!this.stopped) this.fail(new BusError(`the watch of ${this.desired.bucket} ended`));
    })().catch((err: unknown) => this.fail(err));
  }

  private fail(err: unknown): void {
    if (this.stopped) return;
    this.failure = err;
    this.signal();
  }

  /** Hands out what a generation covers (or everything, without a commit log). */
  private release(): void {
    if (this.held.length === 0) return;
    let out: StoreChange<T>[];
    let release: BatchRelease;
    if (!this.following) {
      out = this.held;
      this.held = [];
      release = 'no-commit-log';
    } else {
      // A generation may arrive before the last of its changes: wait until the watch has passed it.
      if (this.seen < this.covered) return;
      const cut = this.held.findIndex((c) => c.revision > this.covered);
      if (cut === 0) return;
      out = cut < 0 ? this.held : this.held.slice(0, cut);
      this.held = cut < 0 ? [] : this.held.slice(cut);
      release = 'generation';
      // What stays is newer than what went: its hold starts now.
      if (this.held.length > 0) this.heldSince = Date.now();
    }
    this.emit(out, release);
    this.armHold(false);
  }

  private emit(changes: StoreChange<T>[], release: BatchRelease): void {
    const revision = changes[changes.length - 1]?.revision ?? 0;
    const wanted = changes.filter((c) => this.wanted(c.key));
    if (wanted.length > 0) this.ready.push({ changes: wanted, revision, release });
    this.signal();
  }

  /** (Re)starts the hold: from the newest held change, capped from the oldest. */
  private armHold(arrived: boolean): void {
    if (this.held.length === 0 || !this.following) {
      clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
      if (this.held.length === 0) this.heldSince = 0;
      return;
    }
    if (!this.connected) return;
    if (this.heldSince === 0) this.heldSince = Date.now();
    if (!arrived && this.holdTimer !== undefined) return;
    clearTimeout(this.holdTimer);
    const cap = this.heldSince + this.holdMs * HOLD_CAP_FACTOR - Date.now();
    this.holdTimer = setTimeout(() => this.expire(), Math.max(0, Math.min(this.holdMs, cap)));
    this.holdTimer.unref?.();
  }

  private expire(): void {
    this.holdTimer = undefined;
    if (this.held.length === 0 || this.stopped) return;
    const out = this.held;
    this.held = [];
    this.log.warn(
      {
        changes: out.length,
        keys: out.slice(0, KEYS_LOGGED).map((c) => c.key),
        from: out[0]?.revision,
        to: out[out.length - 1]?.revision,
        covered: this.covered,
        waitedMs: Date.now() - this.heldSince,
      },
      'desired-state changes no generation covers: applying them without one (a write outside config-api, or a commit that did not finish)',
    );
    this.heldSince = 0;
    this.emit(out, 'hold-expired');
  }

  private onLink(e: BusStateEvent): void {
    if (e.state === 'disconnected') {
      this.connected = false;
      clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
    } else if (e.state === 'connected') {
      this.connected = true;
      // The outage does not count against the hold.
      if (this.held.length > 0) this.heldSince = Date.now();
      this.armHold(true);
    }
  }
}

/**
 * Follows a desired-state store generation by generation: a snapshot first (once a generation covers it), then
 * batches of changes, each released when a generation covers all of it. Resumes by itself after reconnects, like
 * Store.watch. See README.md, "Generations", for what happens to writes no generation covers.
 */
export function watchGenerations<T>(desired: Store<T>, opts: GenerationWatchOptions): GenerationWatch<T> {
  return new GenerationFollower(desired, opts);
}
