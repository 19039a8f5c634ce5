import type { Bucket } from '@fulcrum/schemas';
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { KvWatchInclude, type KV, type KvWatchEntry } from '@nats-io/kv';
import { headers } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Bus } from './bus.js';
import { NatsBus, toBusError } from './bus.js';
import { decodeValue, encodeValue, keyMatches } from './codec.js';
import { BusError, InvalidKeyError, RevisionConflictError, type InvalidMessageError } from './errors.js';

export interface StoreEntry<T> {
  readonly value: T;
  /** The key's revision: the bucket-wide sequence number of the write that set it. */
  readonly revision: number;
}

export type StoreChange<T> =
  | { readonly op: 'put'; readonly key: string; readonly value: T; readonly revision: number }
  | { readonly op: 'delete'; readonly key: string; readonly revision: number };

export interface StoreSnapshot<T> {
  readonly entries: Map<string, StoreEntry<T>>;
  /** Every write up to this revision is reflected in `entries`: pass it to watch() as `fromRevision`. */
  readonly revision: number;
  /** Keys whose stored value failed validation (logged, counted, left out of `entries`). */
  readonly invalid: readonly string[];
}

export interface WatchOptions {
  /** The last revision already known (e.g. a snapshot's): changes after it are delivered. 0 = all history. */
  fromRevision?: number;
  /** Keys or wildcards (`vs.*`, `vs.>`); all keys by default. */
  keys?: string | string[];
}

/** Changes in revision order, each exactly once, across reconnects and server restarts; see watch(). */
export interface StoreWatch<T> extends AsyncIterable<StoreChange<T>> {
  /** The revision of the last change delivered (or `fromRevision`). */
  readonly revision: number;
  /** Ends the iteration. */
  stop(): void;
}

export interface Store<T> {
  readonly bucket: string;
  /** The key's value, or null when it does not exist (never set, deleted or expired). */
  get(key: string): Promise<StoreEntry<T> | null>;
  /**
   * Writes a validated value; returns its revision. With `expectedRevision` the write happens only if
   * the key is at that revision (0: does not exist), else RevisionConflictError.
   */
  put(key: string, value: T, opts?: { expectedRevision?: number }): Promise<number>;
  /**
   * Deletes the key (a delete marker watchers see); `expectedRevision` as for put, but not 0. Returns the
   * revision of the delete marker (a commit's last revision may be a delete).
   */
  delete(key: string, opts?: { expectedRevision?: number }): Promise<number>;
  /** All live entries and the revision they are consistent with, for reconciliation. */
  readAll(): Promise<StoreSnapshot<T>>;
  watch(opts?: WatchOptions): StoreWatch<T>;
}

export interface OpenStoreOptions {
  /** Bind to an existing bucket instead of creating it when missing (agents that only read). */
  bindOnly?: boolean;
  /** Copies of the bucket in a JetStream cluster when it is created (1, 3 or 5; default 1). */
  replicas?: number;
}

const KEY = /^[-/=.\w]+$/;
const OPERATION_HEADER = 'KV-Operation';

function checkKey(key: string): void {
  if (!KEY.test(key) || key.startsWith('.') || key.endsWith('.') || key.includes('..')) throw new InvalidKeyError(key);
}

function isConflict(err: unknown): err is JetStreamApiError {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** The server says `wrong last sequence: 7`; 0 there means the key does not exist. */
function actualRevision(err: Error): number | undefined {
  const m = /wrong last sequence: (\d+)/.exec(err.message);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

class KvStore<T> implements Store<T> {
  private readonly subjectPrefix: string;
  private readonly stream: string;
  private jsm: JetStreamManager | undefined;

  constructor(
    private readonly bus: NatsBus,
    private readonly def: Bucket<T>,
    private readonly kv: KV,
  ) {
    this.subjectPrefix = `$KV.${def.bucket}.`;
    this.stream = `KV_${def.bucket}`;
  }

  get bucket(): string {
    return this.def.bucket;
  }

  private where(key: string): string {
    return `${this.subjectPrefix}${key}`;
  }

  private decode(key: string, data: Uint8Array): { ok: true; value: T } | { ok: false; error: InvalidMessageError } {
    const decoded = decodeValue(this.def.schema, data, this.where(key));
    if (!decoded.ok) this.bus.reportInvalid(`$KV.${this.def.bucket}`, decoded.error, 'stored value refused');
    return decoded;
  }

  async get(key: string): Promise<StoreEntry<T> | null> {
    checkKey(key);
    const what = `get ${this.def.bucket}/${key}`;
    this.bus.ensureConnected(what);
    let entry;
    try {
      entry = await this.kv.get(key);
    } catch (err) {
      throw toBusError(err, what, this.bus.timeoutMs);
    }
    if (!entry || entry.operation !== 'PUT') return null;
    const decoded = this.decode(key, entry.value);
    if (!decoded.ok) throw decoded.error;
    return { value: decoded.value, revision: entry.revision };
  }

  async put(key: string, value: T, opts: { expectedRevision?: number } = {}): Promise<number> {
    checkKey(key);
    const payload = encodeValue(this.def.schema, value, this.where(key));
    const what = `put ${this.def.bucket}/${key}`;
    this.bus.ensureConnected(what);
    const expected = opts.expectedRevision;
    try {
      if (expected === undefined) return await this.kv.put(key, payload);
      // create() also succeeds on a deleted key, which put with previousSeq 0 would refuse.
      if (expected === 0) return await this.kv.create(key, payload);
      return await this.kv.update(key, payload, expected);
    } catch (err) {
      if (isConflict(err)) throw new RevisionConflictError(this.def.bucket, key, expected ?? 0, actualRevision(err), { cause: err });
      throw toBusError(err, what, this.bus.timeoutMs, true);
    }
  }

  async delete(key: string, opts: { expectedRevision?: number } = {}): Promise<number> {
    checkKey(key);
    const expected = opts.expectedRevision;
    if (expected !== undefined && expected <= 0) {
      throw new BusError(`delete ${this.def.bucket}/${key}: expectedRevision must be a revision (> 0), not ${expected}`);
    }
    const what = `delete ${this.def.bucket}/${key}`;
    this.bus.ensureConnected(what);
    // What kv.delete() sends, but keeping the acknowledgement: nats.js drops the marker's sequence.
    const h = headers();
    h.set(OPERATION_HEADER, 'DEL');
    if (expected !== undefined) h.set('Nats-Expected-Last-Subject-Sequence', String(expected));
    try {
      const ack = await this.bus.js.publish(this.where(key), new Uint8Array(0), { headers: h, timeout: this.bus.timeoutMs });
      return ack.seq;
    } catch (err) {
      if (isConflict(err) && expected !== undefined) {
        throw new RevisionConflictError(this.def.bucket, key, expected, actualRevision(err), { cause: err });
      }
      throw toBusError(err, what, this.bus.timeoutMs, true);
    }
  }

  /**
   * Consistent snapshot: the stream's last sequence L0 is read first, then an ordered consumer
   * delivers the last message of every key (as of its creation, after L0) until nothing is pending.
   * Each write <= max(L0, last delivered) is then reflected, and none after it is.
   */
  async readAll(): Promise<StoreSnapshot<T>> {
    const what = `readAll ${this.def.bucket}`;
    this.bus.ensureConnected(what);
    const entries = new Map<string, StoreEntry<T>>();
    const invalid = new Set<string>();
    let revision = 0;
    try {
      this.jsm ??= await this.bus.js.jetstreamManager();
      const info = await this.jsm.streams.info(this.stream);
      revision = info.state.last_seq;
      if (info.state.messages === 0) return { entries, revision, invalid: [] };
      const consumer = await this.bus.js.consumers.get(this.stream, {
        filter_subjects: `${this.subjectPrefix}>`,
        deliver_policy: DeliverPolicy.LastPerSubject,
      });
      try {
        for (let done = false; !done; ) {
          // nats.js refuses an expiry under 1 s.
          const batch = await consumer.fetch({ max_messages: 512, expires: Math.max(1000, this.bus.timeoutMs) });
          let got = 0;
          for await (const m of batch) {
            got += 1;
            // A key can come twice: its snapshot value, then a write made while we read.
            const key = m.subject.slice(this.subjectPrefix.length);
            const op = m.headers?.get(OPERATION_HEADER);
            revision = Math.max(revision, m.seq);
            entries.delete(key);
            invalid.delete(key);
            if (op !== 'DEL' && op !== 'PURGE') {
              const decoded = this.decode(key, m.data);
              if (decoded.ok) entries.set(key, { value: decoded.value, revision: m.seq });
              else invalid.add(key);
            }
            if (m.info.pending === 0) {
              done = true;
              break;
            }
          }
          // Nothing came: the remaining messages expired while we read.
          if (got === 0) done = true;
        }
      } finally {
        // Otherwise the server keeps the consumer for 5 minutes.
        await consumer.delete().catch(() => undefined);
      }
    } catch (err) {
      throw toBusError(err, what, this.bus.timeoutMs);
    }
    return { entries, revision, invalid: [...invalid] };
  }

  watch(opts: WatchOptions = {}): StoreWatch<T> {
    return new KvWatch(this.bus, this.kv, opts, (key, data) => this.decode(key, data), this.def.bucket);
  }
}

/**
 * The guarantee: changes come in revision order, each at most once (anything at or below the last
 * delivered revision is skipped), and none is lost while the server keeps it: after a reconnect, a
 * new consumer starts at last + 1, because one from before the outage may be gone (a restarted
 * server) and would otherwise only be noticed after missed heartbeats. Revisions the server no
 * longer keeps (history, TTL) were superseded: the watch delivers the key's newer state instead.
 */
class KvWatch<T> implements StoreWatch<T> {
  private last: number;
  private stopped = false;
  private current: { stop(): void } | undefined;
  /** Set when the connection came back: the current consumer is replaced on purpose. */
  private restart = false;
  private readonly halt = new AbortController();
  private readonly halted: Promise<void>;
  private readonly key: string;
  private readonly wanted: (key: string) => boolean;
  private readonly log: Logger;
  private readonly generator: AsyncGenerator<StoreChange<T>>;

  constructor(
    private readonly bus: NatsBus,
    private readonly kv: KV,
    opts: WatchOptions,
    private readonly decode: (key: string, data: Uint8Array) => { ok: true; value: T } | { ok: false },
    bucket: string,
  ) {
    this.last = opts.fromRevision ?? 0;
    // Several filters need nats-server 2.10 on the server side; filtering here works everywhere.
    const keys = opts.keys === undefined ? ['>'] : Array.isArray(opts.keys) ? opts.keys : [opts.keys];
    if (keys.length === 0) throw new BusError('watch: keys must name at least one key or pattern');
    this.key = keys.length === 1 ? (keys[0] as string) : '>';
    this.wanted = keys.length === 1 ? () => true : (key) => keys.some((k) => keyMatches(k, key));
    this.log = bus.log.child({ bucket, keys: this.key });
    this.halted = new Promise((resolve) => this.halt.signal.addEventListener('abort', () => resolve(), { once: true }));
    this.generator = this.changes();
  }

  get revision(): number {
    return this.last;
  }

  stop(): void {
    this.stopped = true;
    this.halt.abort();
    this.current?.stop();
    // Runs the generator's cleanup even if nobody asks for the next change any more.
    void this.generator.return(undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<StoreChange<T>> {
    return this.generator;
  }

  private async pause(failures: number): Promise<void> {
    await sleep(Math.min(2000, 100 * 2 ** failures), undefined, { signal: this.halt.signal }).catch(() => undefined);
  }

  private async *changes(): AsyncGenerator<StoreChange<T>> {
    let failures = 0;
    const offState = this.bus.onStateChange((e) => {
      if (e.state === 'closed') this.stop();
      if (e.state === 'connected') {
        this.restart = true;
        this.current?.stop();
      }
    });
    try {
      while (!this.stopped) {
        let iter: AsyncIterable<KvWatchEntry> & { stop(): void };
        try {
          const connected = this.bus.connected();
          connected.catch(() => undefined); // a close is seen through `stopped`
          await Promise.race([connected, this.halted]);
          if (this.stopped) return;
          this.restart = false;
          iter = await this.kv.watch({ key: this.key, include: KvWatchInclude.AllHistory, resumeFromRevision: this.last + 1 });
          this.current = iter;
          // A reconnect while it was being made: it may belong to the old connection, make another.
          if (this.stopped || this.restart) iter.stop();
        } catch (err) {
          failures += 1;
          this.log.warn({ err, after: this.last }, 'watch could not start, retrying');
          await this.pause(failures);
          continue;
        }
        try {
          for await (const e of iter) {
            if (e.revision <= this.last) continue;
            this.last = e.revision;
            failures = 0;
            if (!this.wanted(e.key)) continue;
            if (e.operation !== 'PUT') {
              yield { op: 'delete', key: e.key, revision: e.revision };
              continue;
            }
            const decoded = this.decode(e.key, e.value);
            if (decoded.ok) yield { op: 'put', key: e.key, value: decoded.value, revision: e.revision };
          }
        } catch (err) {
          this.log.warn({ err, after: this.last }, 'watch interrupted');
        } finally {
          iter.stop();
        }
        if (this.stopped) return;
        if (this.restart) this.log.info({ after: this.last }, 'watch resuming after a reconnect');
        else {
          // Ended by itself (consumer gone): start over, without spinning if it keeps ending.
          failures += 1;
          this.log.warn({ after: this.last }, 'watch ended unexpectedly, resuming');
          await this.pause(failures);
        }
      }
    } finally {
      offState();
    }
  }
}

/**
 * Opens (and, unless bindOnly, creates) the JetStream KV bucket described by `bucket`: history and TTL
 * (`max_age`, for status buckets of latest observed state) come from the descriptor.
 */
export async function openStore<T>(bus: Bus, bucket: Bucket<T>, opts: OpenStoreOptions = {}): Promise<Store<T>> {
  if (!(bus instanceof NatsBus)) throw new BusError('openStore needs a bus made by connectBus');
  const what = `open bucket ${bucket.bucket}`;
  bus.ensureConnected(what);
  const config = {
    history: bucket.history ?? 1,
    replicas: opts.replicas ?? 1,
    timeout: bus.timeoutMs,
    ...(bucket.ttlMs === undefined ? {} : { ttl: bucket.ttlMs }),
  };
  let kv: KV;
  try {
    if (opts.bindOnly) {
      kv = await bus.kvm.open(bucket.bucket, config);
      try {
        await kv.status();
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
          throw new BusError(`${what}: the bucket does not exist`, { cause: err });
        }
        throw err;
      }
    } else {
      // Creates the bucket, or opens it unchanged when it exists (possibly made with other settings).
      kv = await bus.kvm.create(bucket.bucket, config);
      const status = await kv.status();
      const want = { history: config.history, ttlMs: bucket.ttlMs ?? 0, ...(opts.replicas === undefined ? {} : { replicas: opts.replicas }) };
      const have = { history: status.history, ttlMs: status.ttl, ...(opts.replicas === undefined ? {} : { replicas: status.replicas }) };
      if (opts.replicas !== undefined && status.replicas < opts.replicas) {
        // Made first by a service that only asked for it (an agent's status or heartbeat, one copy): the owner's
        // replica count wins, or the bucket would die with its one NATS node.
        // Best effort: a user without $JS.API.STREAM.UPDATE keeps the bucket as it is (warned below).
        try {
          const jsm = await bus.js.jetstreamManager();
          const stream = `KV_${bucket.bucket}`;
          const info = await jsm.streams.info(stream);
          await jsm.streams.update(stream, { ...info.config, num_replicas: opts.replicas });
          bus.log.info({ bucket: bucket.bucket, from: status.replicas, to: opts.replicas }, 'bucket scaled to its replica count');
          have.replicas = opts.replicas;
        } catch (err) {
          bus.log.warn({ err, bucket: bucket.bucket }, 'bucket not scaled to its replica count');
        }
      }
      if (want.history !== have.history || want.ttlMs !== have.ttlMs || want.replicas !== have.replicas) {
        bus.log.warn({ bucket: bucket.bucket, want, have }, 'bucket exists with other settings; using it unchanged');
      }
    }
  } catch (err) {
    throw toBusError(err, what, bus.timeoutMs);
  }
  return new KvStore(bus, bucket, kv);
}
