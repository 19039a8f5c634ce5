import { type DesiredObject, keyOf } from '@fulcrum/schemas';
import type { Change, CommitInfo, DesiredRepo, DesiredSnapshot, StoredObject } from './repo.js';
import { checkExpected } from './repo.js';

/** The repository in memory, with the KV's revision semantics: for unit specs and `--memory` demos. */
export class MemoryDesiredRepo implements DesiredRepo {
  private objects = new Map<string, StoredObject>();
  private sequence = 0;
  private generation = 0;
  /** Every commit, for specs that check what was written. */
  readonly commits: { changes: readonly Change[]; info: CommitInfo }[] = [];

  constructor(initial: readonly DesiredObject[] = []) {
    for (const value of initial) {
      const key = keyOf(value);
      this.sequence += 1;
      this.objects.set(key, { key, value, revision: this.sequence });
    }
  }

  snapshot(): DesiredSnapshot {
    return { objects: this.objects, generation: this.generation };
  }

  async commit(changes: readonly Change[]): Promise<CommitInfo> {
    checkExpected(this.objects, changes);
    const next = new Map(this.objects);
    const revisions: Record<string, number> = {};
    for (const c of changes) {
      this.sequence += 1;
      if (c.op === 'put') {
        next.set(c.key, { key: c.key, value: c.value, revision: this.sequence });
        revisions[c.key] = this.sequence;
      } else {
        next.delete(c.key);
        revisions[c.key] = 0;
      }
    }
    this.objects = next;
    this.generation += 1;
    const info = { generation: this.generation, revision: this.sequence, revisions };
    this.commits.push({ changes, info });
    return info;
  }

  async close(): Promise<void> {}
}
