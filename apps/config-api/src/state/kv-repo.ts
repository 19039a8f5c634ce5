import { randomUUID } from 'node:crypto';
import { type Bus, type CommitRecord, GENERATION_KEY, type JournalRecord, RevisionConflictError, type Store, type StoreWatch, commitsBucket, openStore } from '@fulcrum/bus';
import { type DesiredObject, desiredBucket } from '@fulcrum/schemas';
import type { Logger } from 'pino';

import type { Change, CommitInfo, DesiredRepo, DesiredSnapshot, StoredObject } from './repo.js';
import { StaleRevisionError, checkExpected } from './repo.js';

/**
 * The desired state on JetStream KV. Commits are serialised in this process (config-api is the only writer), each
 * key is written with its expected revision, and a commit is journaled before its first write and published as a
 * new `generation` after its last: agents apply changes up to the generation's revision (README.md).
 */
export class KvDesiredRepo implements DesiredRepo {
  private objects = new Map<string, StoredObject>();
  private generation = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private watch: StoreWatch<DesiredObject> | undefined;

  private constructor(
    private readonly desired: Store<DesiredObject>,
    private readonly commits: Store<CommitRecord>,
    private readonly log: Logger,
  ) {}

  /** `replicas`: copies of each bucket when it is created (3 on a 3-node NATS cluster); an existing bucket is kept. */
  static async open(bus: Bus, log: Logger, opts: { replicas?: number } = {}): Promise<KvDesiredRepo> {
    const replicas = opts.replicas ?? 1;
    const repo = new KvDesiredRepo(await openStore(bus, desiredBucket, { replicas }), await openStore(bus, commitsBucket, { replicas }), log);
    await repo.recover();
    await repo.load();
    return repo;
  }

  snapshot(): DesiredSnapshot {
    return { objects: this.objects, generation: this.generation };
  }

  commit(changes: readonly Change[], meta: { author: string; reason?: string }): Promise<CommitInfo> {
    const run = this.queue.then(() => this.commitNow(changes, meta));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.watch?.stop();
    await this.queue;
  }

  /** Rolls forward a commit whose writer died half way: its journal holds the final value of every key. */
  private async recover(): Promise<void> {
    const { entries } = await this.commits.readAll();
    for (const [key, entry] of entries) {
      const record = entry.value;
      if (record.kind !== 'journal') continue;
      this.log.warn({ txn: record.txn, keys: record.changes.length }, 'finishing a commit interrupted by a restart');
      let last = 0;
      for (const c of record.changes) {
        if (c.op === 'put') last = await this.desired.put(c.key, c.value);
        else last = await this.desired.delete(c.key);
      }
      await this.publishGeneration(record, last);
      await this.commits.delete(key);
    }
  }

  private async load(): Promise<void> {
    const snap = await this.desired.readAll();
    const objects = new Map<string, StoredObject>();
    for (const [key, e] of snap.entries) objects.set(key, { key, value: e.value, revision: e.revision });
    this.objects = objects;
    const gen = await this.commits.get(GENERATION_KEY);
    this.generation = gen?.value.kind === 'generation' ? gen.value.generation : 0;
    // Another writer (a second config-api, an operator with the nats CLI) shows up here instead of going unseen.
    this.watch = this.desired.watch({ fromRevision: snap.revision });
    void (async () => {
      for await (const change of this.watch!) {
        const known = this.objects.get(change.key);
        if (known && known.revision >= change.revision) continue;
        const next = new Map(this.objects);
        if (change.op === 'put') next.set(change.key, { key: change.key, value: change.value, revision: change.revision });
        else next.delete(change.key);
        this.objects = next;
      }
    })().catch((err: unknown) => this.log.error({ err }, 'desired-state watch ended'));
  }

  private async commitNow(changes: readonly Change[], meta: { author: string }): Promise<CommitInfo> {
    checkExpected(this.objects, changes);
    const txn = randomUUID().replace(/-/g, '').slice(0, 20);
    const journal: JournalRecord = {
      kind: 'journal',
      txn,
      author: meta.author,
      time: new Date().toISOString(),
      changes: changes.map((c) => (c.op === 'put' ? { op: 'put', key: c.key, value: c.value } : { op: 'delete', key: c.key })),
    };
    const journalKey = `txn.${txn}`;
    // A single change needs no journal: it is atomic on its own.
    // The state the commit was checked against: a write by someone else that the watch brings in during the
    // awaits below must make the commit fail on its revision, not be overwritten with a newer expected revision.
    const checked = this.objects;
    if (changes.length > 1) await this.commits.put(journalKey, journal);
    const revisions: Record<string, number> = {};
    const written: { key: string; value: DesiredObject | null; revision: number }[] = [];
    const done: { change: Change; before: StoredObject | undefined }[] = [];
    let last = 0;
    try {
      for (const c of changes) {
        const before = checked.get(c.key);
        const expectedRevision = c.expectedRevision ?? before?.revision ?? 0;
        if (c.op === 'put') {
          last = await this.desired.put(c.key, c.value, { expectedRevision });
          written.push({ key: c.key, value: c.value, revision: last });
          revisions[c.key] = last;
        } else {
          if (before) {
            last = await this.desired.delete(c.key, { expectedRevision: expectedRevision || before.revision });
            written.push({ key: c.key, value: null, revision: last });
          }
          revisions[c.key] = 0;
        }
        done.push({ change: c, before });
      }
    } catch (err) {
      const undone = await this.undo(done);
      // Agents hold the failed commit's writes until a generation covers them: one that covers the undo too
      // lets them see the net no-change at once instead of after their hold expires.
      if (undone > 0) await this.publishGeneration(journal, undone).catch((e: unknown) => this.log.warn({ err: e }, 'no generation after an undo'));
      if (changes.length > 1) await this.commits.delete(journalKey).catch(() => undefined);
      if (err instanceof RevisionConflictError) throw new StaleRevisionError(err.key, err.expected, err.actual, { cause: err });
      throw err;
    }
    // Only deletes of keys that did not exist: nothing was written.
    if (last === 0) last = (await this.desired.readAll()).revision;
    // Onto the current state, which the watch may have moved on for other keys meanwhile.
    const next = new Map(this.objects);
    for (const w of written) {
      if ((next.get(w.key)?.revision ?? 0) > w.revision) continue;
      if (w.value === null) next.delete(w.key);
      else next.set(w.key, { key: w.key, value: w.value, revision: w.revision });
    }
    this.objects = next;
    await this.publishGeneration(journal, last);
    if (changes.length > 1) await this.commits.delete(journalKey);
    return { generation: this.generation, revision: last, revisions };
  }

  /**
   * Puts back what a failed commit already wrote (another writer got in between), newest first; returns the last
   * revision written (0: none).
   */
  private async undo(done: { change: Change; before: StoredObject | undefined }[]): Promise<number> {
    let last = 0;
    for (const { change, before } of done.reverse()) {
      try {
        if (before) last = await this.desired.put(change.key, before.value);
        else last = await this.desired.delete(change.key);
      } catch (err) {
        this.log.error({ err, key: change.key }, 'could not undo a write of a failed commit');
      }
    }
    return last;
  }

  private async publishGeneration(journal: JournalRecord, revision: number): Promise<void> {
    this.generation += 1;
    await this.commits.put(GENERATION_KEY, {
      kind: 'generation',
      generation: this.generation,
      revision,
      txn: journal.txn,
      keys: journal.changes.map((c) => c.key),
      author: journal.author,
      time: new Date().toISOString(),
    });
  }
}
