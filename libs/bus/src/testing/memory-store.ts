import { keyMatches } from '../codec.js';
import { BusError, RevisionConflictError } from '../errors.js';
import type { Store, StoreChange, StoreEntry, StoreSnapshot, StoreWatch, WatchOptions } from '../store.js';

/**
 * A Store in memory with the KV's revision semantics (one sequence per bucket, delete markers, expected
 * revisions), for unit specs. Watches see every change after their `fromRevision`, in order; `failNext` makes the
 * next operation throw, as an unreachable server would.
 */
export class MemoryStore<T> implements Store<T> {
  private sequence = 0;
  private readonly entries = new Map<string, StoreEntry<T>>();
  private readonly log: StoreChange<T>[] = [];
  private readonly watchers = new Set<() => void>();
  private failure: Error | null = null;

  constructor(readonly bucket: string) {}

  /** The next operation throws `err` (a BusError by default). */
  failNext(err: Error = new BusError(`${this.bucket} is unavailable`)): void {
    this.failure = err;
  }

  private check(): void {
    const err = this.failure;
    this.failure = null;
    if (err) throw err;
  }

  private record(change: StoreChange<T>): number {
    this.log.push(change);
    for (const w of this.watchers) w();
    return change.revision;
  }

  async get(key: string): Promise<StoreEntry<T> | null> {
    this.check();
    return this.entries.get(key) ?? null;
  }

  async put(key: string, value: T, opts: { expectedRevision?: number } = {}): Promise<number> {
    this.check();
    const actual = this.entries.get(key)?.revision ?? 0;
    if (opts.expectedRevision !== undefined && opts.expectedRevision !== actual) {
      throw new RevisionConflictError(this.bucket, key, opts.expectedRevision, actual);
    }
    const revision = ++this.sequence;
    this.entries.set(key, { value, revision });
    return this.record({ op: 'put', key, value, revision });
  }

  async delete(key: string, opts: { expectedRevision?: number } = {}): Promise<number> {
    this.check();
    const actual = this.entries.get(key)?.revision ?? 0;
    if (opts.expectedRevision !== undefined && opts.expectedRevision !== actual) {
      throw new RevisionConflictError(this.bucket, key, opts.expectedRevision, actual);
    }
    const revision = ++this.sequence;
    this.entries.delete(key);
    return this.record({ op: 'delete', key, revision });
  }

  async readAll(): Promise<StoreSnapshot<T>> {
    this.check();
    return { entries: new Map(this.entries), revision: this.sequence, invalid: [] };
  }

  watch(opts: WatchOptions = {}): StoreWatch<T> {
    const keys = opts.keys === undefined ? ['>'] : Array.isArray(opts.keys) ? opts.keys : [opts.keys];
    const wanted = (key: string) => keys.some((k) => keyMatches(k, key));
    let last = opts.fromRevision ?? 0;
    let stopped = false;
    let wake: (() => void) | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    this.watchers.add(notify);
    const log = this.log;
    const watchers = this.watchers;
    async function* changes(): AsyncGenerator<StoreChange<T>> {
      try {
        while (!stopped) {
          const next = log.find((c) => c.revision > last);
          if (!next) {
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          last = next.revision;
          if (wanted(next.key)) yield next;
        }
      } finally {
        watchers.delete(notify);
      }
    }
    const generator = changes();
    return {
      get revision() {
        return last;
      },
      stop() {
        stopped = true;
        notify();
        void generator.return(undefined);
      },
      [Symbol.asyncIterator]: () => generator,
    };
  }
}
