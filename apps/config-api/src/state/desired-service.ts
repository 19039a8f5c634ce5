import {
  type DesiredKind,
  type DesiredObject,
  type FormattedIssue,
  DESIRED_KINDS,
  checkContract,
  checkDesiredState,
  desiredKey,
  desiredObject,
  idOf,
  isSlug,
  keyOf,
  parseDesiredKey,
  redactSecrets,
  referencesTo,
} from '@fulcrum/schemas';
import { ConflictError, NotFoundError, ValidationError, badField } from '../api/errors.js';
import { mergePatch } from './merge-patch.js';
import type { Change, CommitInfo, DesiredRepo, StoredObject } from './repo.js';
import { StaleRevisionError } from './repo.js';
import { keepStoredSecrets, redactedPath } from './secrets.js';

// The rules of writing the desired state, independent of HTTP: every object is parsed by its schema, the state the
// write would produce must not add a whole-config problem, deletes must not leave references dangling, and
// If-Match revisions must be current. Writes are serialised so that two requests never validate against the same
// old state and then both commit.

/** One requested change, before validation. */
export type Draft =
  | { op: 'create'; kind: DesiredKind; body: unknown; path?: string }
  | { op: 'replace'; kind: DesiredKind; id: string; body: unknown; ifMatch?: number; path?: string }
  | { op: 'patch'; kind: DesiredKind; id: string; patch: unknown; ifMatch?: number; path?: string }
  | { op: 'delete'; kind: DesiredKind; id: string; ifMatch?: number; path?: string };

export interface PlannedChange {
  key: string;
  action: 'create' | 'update' | 'delete' | 'unchanged';
  before?: DesiredObject;
  after?: DesiredObject;
}

export interface WriteResult {
  changes: PlannedChange[];
  /** Advice that does not block the write (e.g. a VIP no VRRP instance carries). */
  warnings: FormattedIssue[];
  /** Absent for a dry run or when nothing changed. */
  commit?: CommitInfo;
}

const ID_FIELD = (kind: DesiredKind): 'id' | 'name' => (kind === 'host' ? 'name' : 'id');
const prefixed = (prefix: string | undefined, issues: FormattedIssue[]): FormattedIssue[] =>
  prefix === undefined ? issues : issues.map((i) => ({ path: i.path ? (i.path.startsWith('[') ? `${prefix}${i.path}` : `${prefix}.${i.path}`) : prefix, message: i.message }));

const issueKey = (i: FormattedIssue): string => `${i.path}\u0000${i.message}`;
const same = (a: DesiredObject, b: DesiredObject): boolean => JSON.stringify(a) === JSON.stringify(b);

export class DesiredService {
  private queue: Promise<unknown> = Promise.resolve();
  private listCache: { objects: ReadonlyMap<string, StoredObject> | null; byKind: Map<DesiredKind, string> } = { objects: null, byKind: new Map() };
  /** Whole-config problems of a committed state (the state before a write), computed once per state. */
  private issueCache: { objects: ReadonlyMap<string, StoredObject> | null; keys: Set<string> } = { objects: null, keys: new Set() };

  constructor(private readonly repo: DesiredRepo) {}

  get generation(): number {
    return this.repo.snapshot().generation;
  }

  /** The stored object under a key, or undefined. */
  find(key: string): StoredObject | undefined {
    return this.repo.snapshot().objects.get(key);
  }

  /**
   * A read of a whole collection as JSON text, made once per committed state: listing 1,000 services is then a
   * string copy, not 1,000 deep copies (secrets are redacted in it like in every read).
   */
  listJson(kind: DesiredKind): string {
    const snap = this.repo.snapshot();
    if (this.listCache.objects !== snap.objects) this.listCache = { objects: snap.objects, byKind: new Map() };
    let text = this.listCache.byKind.get(kind);
    if (text === undefined) {
      text = JSON.stringify({ generation: snap.generation, items: this.list(kind).map(present) });
      this.listCache.byKind.set(kind, text);
    }
    return text;
  }

  list(kind?: DesiredKind): StoredObject[] {
    const out: StoredObject[] = [];
    for (const o of this.repo.snapshot().objects.values()) if (!kind || o.value.kind === kind) out.push(o);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  get(kind: DesiredKind, id: string): StoredObject {
    if (!isSlug(id)) throw new NotFoundError(`no ${kind} ${JSON.stringify(id)}: ids are lowercase letters, digits and "-"`);
    const found = this.repo.snapshot().objects.get(desiredKey(kind, id));
    if (!found) throw new NotFoundError(`no ${kind} "${id}"`);
    return found;
  }

  /** Validates and commits all drafts as one generation (or none); `dryRun` only plans. */
  write(drafts: readonly Draft[], meta: { author: string; dryRun?: boolean }): Promise<WriteResult> {
    const run = this.queue.then(() => this.writeNow(drafts, meta));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private parse(kind: DesiredKind, body: unknown, path: string | undefined, id?: string): DesiredObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ValidationError([{ path: path ?? '', message: 'must be a JSON object' }]);
    }
    const input: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    if (input.kind === undefined) input.kind = kind;
    else if (input.kind !== kind) throw new ValidationError(prefixed(path, [{ path: 'kind', message: `must be "${kind}" here (got ${JSON.stringify(input.kind)})` }]));
    const field = ID_FIELD(kind);
    if (id !== undefined) {
      if (input[field] === undefined) input[field] = id;
      else if (input[field] !== id) {
        throw new ValidationError(prefixed(path, [{ path: field, message: `is ${JSON.stringify(input[field])} but the URL names "${id}"; rename by create + delete` }]));
      }
    }
    const secretLeft = redactedPath(input);
    if (secretLeft !== null) {
      throw new ValidationError(prefixed(path, [{ path: secretLeft, message: 'is "[redacted]": send the secret itself (there is no stored one to keep)' }]));
    }
    const result = checkContract(desiredObject, input);
    if (!result.ok) throw new ValidationError(prefixed(path, result.issues));
    return result.value;
  }

  private async writeNow(drafts: readonly Draft[], meta: { author: string; dryRun?: boolean }): Promise<WriteResult> {
    const current = this.repo.snapshot().objects;
    const next = new Map<string, DesiredObject>();
    for (const [k, o] of current) next.set(k, o.value);
    const planned = new Map<string, PlannedChange>();
    const changes: Change[] = [];
    const deleted: DesiredObject[] = [];
    const issues: FormattedIssue[] = [];

    const expect = (key: string, ifMatch: number | undefined) => {
      if (ifMatch === undefined) return;
      const actual = current.get(key)?.revision ?? 0;
      if (actual !== ifMatch) {
        throw new ConflictError('STALE_REVISION', new StaleRevisionError(key, ifMatch, actual).message, { key, expected: ifMatch, actual });
      }
    };

    for (const d of drafts) {
      try {
        if (d.op !== 'create' && !isSlug(d.id)) {
          if (d.op === 'replace') throw badField(d.path ?? ID_FIELD(d.kind), `${JSON.stringify(d.id)} is not a valid id: lowercase letters, digits and "-"`);
          throw new NotFoundError(`no ${d.kind} ${JSON.stringify(d.id)}`);
        }
        if (d.op === 'delete') {
          const key = desiredKey(d.kind, d.id);
          const stored = next.get(key);
          if (!stored) throw new NotFoundError(`no ${d.kind} "${d.id}"`);
          expect(key, d.ifMatch);
          next.delete(key);
          deleted.push(stored);
          planned.set(key, { key, action: 'delete', before: stored });
          continue;
        }
        let value: DesiredObject;
        if (d.op === 'create') {
          value = this.parse(d.kind, d.body, d.path);
          const key = keyOf(value);
          if (next.has(key)) {
            throw new ConflictError('ALREADY_EXISTS', `${d.kind} "${idOf(value)}" already exists (${key}); replace it with PUT`, { key });
          }
        } else if (d.op === 'replace') {
          const key = desiredKey(d.kind, d.id);
          expect(key, d.ifMatch);
          value = this.parse(d.kind, keepStoredSecrets(d.body, next.get(key)), d.path, d.id);
        } else {
          const key = desiredKey(d.kind, d.id);
          const stored = next.get(key);
          if (!stored) throw new NotFoundError(`no ${d.kind} "${d.id}"`);
          expect(key, d.ifMatch);
          if (typeof d.patch !== 'object' || d.patch === null || Array.isArray(d.patch)) {
            throw new ValidationError([{ path: d.path ?? '', message: 'a merge patch must be a JSON object' }]);
          }
          value = this.parse(d.kind, keepStoredSecrets(mergePatch(stored, d.patch), stored), d.path, d.id);
        }
        const key = keyOf(value);
        const before = next.get(key);
        next.set(key, value);
        const action = !before ? 'create' : same(before, value) ? 'unchanged' : 'update';
        planned.set(key, { key, action, ...(before ? { before } : {}), after: value });
      } catch (err) {
        if (err instanceof ValidationError && drafts.length > 1) issues.push(...err.errors);
        else throw err;
      }
    }
    if (issues.length > 0) throw new ValidationError(issues);

    const remaining = [...next.values()];
    for (const gone of deleted) {
      const refs = referencesTo(remaining, gone);
      if (refs.length > 0) {
        throw new ConflictError('REFERENCED', `${keyOf(gone)} is still used by ${refs.join(', ')}`, { key: keyOf(gone), referencedBy: refs });
      }
    }
    if (this.issueCache.objects !== current) {
      this.issueCache = { objects: current, keys: new Set(checkDesiredState([...current.values()].map((o) => o.value)).map(issueKey)) };
    }
    const known = this.issueCache.keys;
    const after = checkDesiredState(remaining);
    const added = after.filter((i) => !known.has(issueKey(i)));
    if (added.length > 0) throw new ValidationError(added, 'INVALID_STATE');

    const result = [...planned.values()];
    for (const p of result) {
      if (p.action === 'unchanged') continue;
      const expectedRevision = current.get(p.key)?.revision ?? 0;
      changes.push(p.action === 'delete' ? { op: 'delete', key: p.key, expectedRevision } : { op: 'put', key: p.key, value: p.after!, expectedRevision });
    }
    const warnings = advise(remaining, new Set(planned.keys()));
    if (meta.dryRun || changes.length === 0) return { changes: result, warnings };
    try {
      const commit = await this.repo.commit(changes, { author: meta.author });
      // The state just committed has exactly these problems: the next write need not compute them again.
      this.issueCache = { objects: this.repo.snapshot().objects, keys: new Set(after.map(issueKey)) };
      return { changes: result, commit, warnings };
    } catch (err) {
      if (err instanceof StaleRevisionError) {
        throw new ConflictError('STALE_REVISION', err.message, { key: err.key, expected: err.expected, actual: err.actual ?? null }, { cause: err });
      }
      throw err;
    }
  }
}

/**
 * Advice on the state a write produces, for the objects it touches. Once VRRP instances exist, a virtual service
 * whose VIP none of them carries is reachable on no director (seed 003's keepalived.conf has exactly this mistake):
 * worth saying, not worth refusing, since a VIP may also be managed outside Fulcrum.
 */
export function advise(objects: DesiredObject[], touched: ReadonlySet<string>): FormattedIssue[] {
  const instances = objects.filter((o) => o.kind === 'vrrp-instance');
  if (instances.length === 0) return [];
  const carried = new Set(instances.flatMap((v) => (v.kind === 'vrrp-instance' ? v.virtualAddresses.map((a) => a.address) : [])));
  const vrrpTouched = [...touched].some((k) => k.startsWith('vrrp.'));
  const out: FormattedIssue[] = [];
  for (const o of objects) {
    if (o.kind !== 'virtual-service' || o.match.kind !== 'address' || carried.has(o.match.address)) continue;
    const key = keyOf(o);
    if (!vrrpTouched && !touched.has(key)) continue;
    out.push({
      path: `${key}.match.address`,
      message: `${o.match.address} is not carried by any VRRP instance (they carry ${[...carried].join(', ')}): no director will hold this VIP`,
    });
  }
  return out;
}

/** What a read returns: the object without its secrets, with its revision. */
export const present = (o: StoredObject): { revision: number; key: string; object: DesiredObject } => ({
  key: o.key,
  revision: o.revision,
  object: redactSecrets(o.value),
});

export const kindOfKey = (key: string): DesiredKind | undefined => parseDesiredKey(key)?.kind;
export { DESIRED_KINDS };
