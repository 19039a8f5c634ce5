import { eventually, memoryLogger } from '@fulcrum/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CommitRecord, GENERATION_KEY } from './commit-log.js';
import { BusError } from './errors.js';
import { type GenerationBatch, type GenerationWatch, watchGenerations } from './generations.js';
import type { StoreChange } from './store.js';
import { MemoryStore } from './testing/memory-store.js';

type V = { n: number };

/** Reads batches one at a time; a next() that lost a race stays pending for the following read. */
class Reader {
  private pending: Promise<IteratorResult<GenerationBatch<V>>> | null = null;
  private readonly iter: AsyncIterator<GenerationBatch<V>>;
  constructor(watch: GenerationWatch<V>) {
    this.iter = watch[Symbol.asyncIterator]();
  }
  private next(): Promise<IteratorResult<GenerationBatch<V>>> {
    this.pending ??= this.iter.next();
    return this.pending;
  }
  async take(timeoutMs = 5000): Promise<GenerationBatch<V>> {
    const r = await Promise.race([this.next(), new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), timeoutMs).unref())]);
    if (r === 'timeout') throw new Error(`no batch within ${timeoutMs} ms`);
    this.pending = null;
    if (r.done) throw new Error('the watch ended');
    return r.value;
  }
  /** True when no batch comes within `ms` (a batch that comes is consumed and returned instead). */
  async nothingWithin(ms: number): Promise<true | GenerationBatch<V>> {
    const r = await Promise.race([this.next(), new Promise<'quiet'>((res) => setTimeout(() => res('quiet'), ms).unref())]);
    if (r === 'quiet') return true;
    this.pending = null;
    if (r.done) throw new Error('the watch ended');
    return r.value;
  }
}

const brief = (changes: readonly StoreChange<V>[]) => changes.map((c) => (c.op === 'put' ? `${c.key}=${c.value.n}` : `-${c.key}`));

describe('watchGenerations', () => {
  let desired: MemoryStore<V>;
  let commits: MemoryStore<CommitRecord>;
  let generation = 0;
  const watches: GenerationWatch<V>[] = [];
  const log = memoryLogger();

  const publish = async (revision: number) =>
    commits.put(GENERATION_KEY, {
      kind: 'generation',
      generation: ++generation,
      revision,
      txn: `t${generation}`,
      keys: [],
      author: 'spec',
      time: new Date().toISOString(),
    });
  /** What config-api does: every key, then the generation naming the last revision. */
  const commit = async (changes: [string, number | null][]) => {
    let last = 0;
    for (const [key, n] of changes) last = n === null ? await desired.delete(key) : await desired.put(key, { n });
    await publish(last);
    return last;
  };
  const follow = (opts: { keys?: string | string[]; holdMs?: number; noCommitLog?: boolean; retryCommitsMs?: number } = {}) => {
    let refusals = opts.noCommitLog ? 1 : 0;
    const watch = watchGenerations(desired, {
      openCommits: async () => {
        if (refusals-- > 0) throw new BusError('open bucket fulcrum-commits: the bucket does not exist');
        return commits;
      },
      logger: log.logger,
      holdMs: opts.holdMs ?? 5000,
      retryCommitsMs: opts.retryCommitsMs ?? 60_000,
      ...(opts.keys === undefined ? {} : { keys: opts.keys }),
    });
    watches.push(watch);
    return new Reader(watch);
  };

  const reset = () => {
    desired = new MemoryStore('desired');
    commits = new MemoryStore('commits');
    generation = 0;
    log.records.length = 0;
  };
  reset();
  afterEach(() => {
    for (const w of watches.splice(0)) w.stop();
    reset();
  });

  it('hands out a snapshot, then each commit as one batch only once its generation has come', async () => {
    await commit([['vs.a', 1]]);
    const r = follow();
    const snap = await r.take();
    expect(snap).toMatchObject({ snapshot: true, release: 'generation', generation: 1 });
    expect(brief(snap.changes)).toEqual(['vs.a=1']);

    await desired.put('vs.b', { n: 2 });
    await desired.put('vs.c', { n: 3 });
    const last = await desired.delete('vs.a');
    expect(await r.nothingWithin(100)).toBe(true);
    await publish(last);
    const batch = await r.take();
    expect(batch).toMatchObject({ snapshot: false, release: 'generation', generation: 2, revision: last });
    expect(brief(batch.changes)).toEqual(['vs.b=2', 'vs.c=3', '-vs.a']);
    expect([...batch.state.keys()].sort()).toEqual(['vs.b', 'vs.c']);
  });

  it('waits for the last change of a commit whose generation arrived first', async () => {
    const r = follow();
    await r.take();
    // The commit log's watch may deliver before the desired store's: here the generation is simply written first.
    const a = await desired.put('vs.a', { n: 1 });
    await publish(a + 1);
    expect(await r.nothingWithin(100)).toBe(true);
    await desired.put('vs.b', { n: 2 });
    expect(brief((await r.take()).changes)).toEqual(['vs.a=1', 'vs.b=2']);
  });

  it('releases what a generation covers and keeps the next commit, already under way, held', async () => {
    const r = follow();
    await r.take();
    await desired.put('vs.a', { n: 1 });
    const b = await desired.put('vs.b', { n: 2 });
    await desired.put('vs.c', { n: 3 });
    await publish(b);
    expect(brief((await r.take()).changes)).toEqual(['vs.a=1', 'vs.b=2']);
    expect(await r.nothingWithin(100)).toBe(true);
    await commit([['vs.d', 4]]);
    expect(brief((await r.take()).changes)).toEqual(['vs.c=3', 'vs.d=4']);
  });

  it('does not hand out a snapshot read in the middle of a commit until the commit is finished', async () => {
    await commit([['vs.a', 1]]);
    await desired.put('vs.b', { n: 2 });
    const r = follow();
    expect(await r.nothingWithin(100)).toBe(true);
    const c = await desired.put('vs.c', { n: 3 });
    await publish(c);
    const snap = await r.take();
    expect(snap).toMatchObject({ snapshot: true, revision: c });
    // The read caught vs.b without vs.c; the snapshot waited for the commit and holds all of it.
    expect(brief(snap.changes)).toEqual(['vs.a=1', 'vs.b=2', 'vs.c=3']);
    expect(await r.nothingWithin(100)).toBe(true);
  });

  it('completes a snapshot whose generation arrives before the rest of the commit does', async () => {
    await commit([['vs.a', 1]]);
    const b = await desired.put('vs.b', { n: 2 });
    const r = follow();
    expect(await r.nothingWithin(50)).toBe(true);
    await publish(b + 1);
    expect(await r.nothingWithin(100)).toBe(true);
    await desired.put('vs.c', { n: 3 });
    expect(brief((await r.take()).changes)).toEqual(['vs.a=1', 'vs.b=2', 'vs.c=3']);
  });

  it('releases a write no generation covers after the hold, and says so in the log', async () => {
    const r = follow({ holdMs: 100 });
    await r.take();
    const t0 = Date.now();
    await desired.put('vs.hand-edit', { n: 7 });
    const batch = await r.take();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(batch).toMatchObject({ release: 'hold-expired' });
    expect(brief(batch.changes)).toEqual(['vs.hand-edit=7']);
    expect(log.records.some((l) => l.level === 40 && /no generation covers/.test(l.msg ?? '') && (l.keys as string[]).includes('vs.hand-edit'))).toBe(true);
  });

  it('keeps holding while changes keep coming, but not beyond 12 holds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const watch = watchGenerations(desired, { openCommits: async () => commits, logger: log.logger, holdMs: 50 });
      watches.push(watch);
      const iter = watch[Symbol.asyncIterator]();
      expect((await iter.next()).value?.snapshot).toBe(true);
      const t0 = Date.now();
      let releasedAt: number | null = null;
      const next = iter.next().then((r) => ((releasedAt = Date.now() - t0), r));
      // A change every 40 ms: each one restarts the 50 ms hold, so only the cap (600 ms) ends it.
      for (let i = 0; i < 20 && releasedAt === null; i++) {
        await desired.put(`vs.w${i}`, { n: i });
        await vi.advanceTimersByTimeAsync(40);
      }
      const batch = (await next).value as GenerationBatch<V>;
      expect(batch.release).toBe('hold-expired');
      expect(releasedAt).toBeGreaterThanOrEqual(600);
      expect(releasedAt).toBeLessThanOrEqual(640);
      expect(batch.changes.length).toBe(15);
    } finally {
      vi.useRealTimers();
    }
  });

  it('leaves out keys not asked for, and a generation that covers only those hands out nothing', async () => {
    const r = follow({ keys: ['vs.>'] });
    expect((await r.take()).snapshot).toBe(true);
    await commit([['vrrp.vi-1', 1], ['vs.a', 2]]);
    const first = await r.take();
    expect(brief(first.changes)).toEqual(['vs.a=2']);
    await commit([['vrrp.vi-1', 3]]);
    expect(await r.nothingWithin(100)).toBe(true);
    await commit([['vs.b', 4]]);
    const next = await r.take();
    expect(brief(next.changes)).toEqual(['vs.b=4']);
    expect([...next.state.keys()].sort()).toEqual(['vs.a', 'vs.b']);
  });

  it('without a commit log hands out changes as they come, and follows generations once the log appears', async () => {
    const r = follow({ noCommitLog: true, retryCommitsMs: 100 });
    const snap = await r.take();
    expect(snap.release).toBe('no-commit-log');
    expect(log.records.some((l) => l.level === 40 && /no commit log/.test(l.msg ?? ''))).toBe(true);
    await desired.put('vs.a', { n: 1 });
    expect(await r.take()).toMatchObject({ release: 'no-commit-log', changes: [{ key: 'vs.a' }] });
    await desired.put('vs.b', { n: 2 });
    expect(await r.take()).toMatchObject({ release: 'no-commit-log', changes: [{ key: 'vs.b' }] });
    await eventually('the commit log is tried again', () => log.records.some((l) => /commit log found/.test(l.msg ?? '')));
    await desired.put('vs.c', { n: 3 });
    expect(await r.nothingWithin(100)).toBe(true);
    const d = await desired.put('vs.d', { n: 4 });
    await publish(d);
    expect(await r.take()).toMatchObject({ release: 'generation', changes: [{ key: 'vs.c' }, { key: 'vs.d' }] });
  });

  it('surfaces a failed first read to the caller, who may retry', async () => {
    desired.failNext();
    const r = follow();
    await expect(r.take()).rejects.toBeInstanceOf(BusError);
  });
});
