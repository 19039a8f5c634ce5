import type { DesiredObject } from '@fulcrum/schemas';

// The desired-state repository config-api writes through: one object per key, each with the KV revision of its
// last write, and commits that change many keys and become visible to agents as one generation (see README.md).

export interface StoredObject {
  readonly key: string;
  readonly value: DesiredObject;
  /** Revision of the write that set it (the bucket-wide sequence number): the object's ETag. */
  readonly revision: number;
}

/** One change of a commit. `expectedRevision`: the key must be at that revision (0 = must not exist). */
export type Change =
  | { readonly op: 'put'; readonly key: string; readonly value: DesiredObject; readonly expectedRevision?: number }
  | { readonly op: 'delete'; readonly key: string; readonly expectedRevision?: number };

export interface CommitInfo {
  /** Counts commits: agents apply the desired state generation by generation. */
  readonly generation: number;
  /** The last desired-state revision the generation includes. */
  readonly revision: number;
  /** New revision of each key written (0 for a delete). */
  readonly revisions: Readonly<Record<string, number>>;
}

export interface DesiredSnapshot {
  readonly objects: ReadonlyMap<string, StoredObject>;
  readonly generation: number;
}

export interface DesiredRepo {
  /** The whole committed desired state (from memory: config-api keeps a copy). */
  snapshot(): DesiredSnapshot;
  /** Applies every change or none; throws StaleRevisionError when a key is not at its expected revision. */
  commit(changes: readonly Change[], meta: { author: string; reason?: string }): Promise<CommitInfo>;
  close(): Promise<void>;
}

/** A key was not at the revision the writer expected: someone changed it first. */
export class StaleRevisionError extends Error {
  override readonly name = 'StaleRevisionError';
  constructor(
    readonly key: string,
    readonly expected: number,
    readonly actual: number | undefined,
    options?: ErrorOptions,
  ) {
    super(
      expected === 0
        ? `${key} already exists (revision ${actual ?? 'unknown'})`
        : actual === 0 || actual === undefined
          ? `${key} was expected at revision ${expected} but does not exist any more`
          : `${key} is at revision ${actual}, not ${expected}: it was changed since you read it`,
      options,
    );
  }
}

/** Checks every expected revision against the current state before anything is written. */
export function checkExpected(objects: ReadonlyMap<string, StoredObject>, changes: readonly Change[]): void {
  for (const c of changes) {
    if (c.expectedRevision === undefined) continue;
    const actual = objects.get(c.key)?.revision ?? 0;
    if (actual !== c.expectedRevision) throw new StaleRevisionError(c.key, c.expectedRevision, actual);
  }
}
