import { z } from 'zod';
import { defineBucket } from './contract.js';
import { host } from './host.js';
import { isSlug } from './primitives.js';
import { replicationCluster } from './replication.js';
import { sessionStore } from './session-store.js';
import { virtualService } from './virtual-service.js';
import { vrrpInstance } from './vrrp.js';

// The desired state: one object per key in the JetStream KV bucket `fulcrum-desired`, written only by config-api.
// Each object carries its `kind`, and its key is `<prefix>.<id>`, e.g. `vs.web`, `vrrp.vi-1`, `host.director1`.

export const desiredObject = z.discriminatedUnion('kind', [virtualService, vrrpInstance, host, sessionStore, replicationCluster]);
export type DesiredObject = z.infer<typeof desiredObject>;
export type DesiredKind = DesiredObject['kind'];
export type DesiredOf<K extends DesiredKind> = Extract<DesiredObject, { kind: K }>;

/** Key prefix of each kind. */
export const KEY_PREFIX = {
  'virtual-service': 'vs',
  'vrrp-instance': 'vrrp',
  host: 'host',
  'session-store': 'session-store',
  'replication-cluster': 'replication',
} as const satisfies Record<DesiredKind, string>;

export const DESIRED_KINDS = Object.keys(KEY_PREFIX) as DesiredKind[];

const KIND_OF_PREFIX = new Map<string, DesiredKind>(Object.entries(KEY_PREFIX).map(([k, p]) => [p, k as DesiredKind]));

/** The desired-state bucket; keeps a few revisions of each key for audit and rollback. */
export const DESIRED_BUCKET = 'fulcrum-desired';
export const desiredBucket = defineBucket(DESIRED_BUCKET, desiredObject, { history: 10 });

/** Thrown when an id or key is not valid for the desired-state bucket. */
export class DesiredKeyError extends Error {
  override readonly name = 'DesiredKeyError';
}

/** The id (or host name) of a desired object. */
export const idOf = (obj: DesiredObject): string => (obj.kind === 'host' ? obj.name : obj.id);

/** The KV key of an object of `kind` with this id, e.g. desiredKey('virtual-service', 'web') = 'vs.web'. */
export function desiredKey(kind: DesiredKind, id: string): string {
  if (!isSlug(id)) {
    throw new DesiredKeyError(
      `${kind} id ${JSON.stringify(id)} must be 1-63 characters of lowercase letters, digits and "-", starting and ending with a letter or digit`,
    );
  }
  return `${KEY_PREFIX[kind]}.${id}`;
}

/** The KV key an object is stored under. */
export const keyOf = (obj: DesiredObject): string => desiredKey(obj.kind, idOf(obj));

/** Kind and id of a desired-state key; null when the key is not one of ours (an expected case while watching). */
export function parseDesiredKey(key: string): { kind: DesiredKind; id: string } | null {
  const dot = key.indexOf('.');
  if (dot < 0) return null;
  const kind = KIND_OF_PREFIX.get(key.slice(0, dot));
  const id = key.slice(dot + 1);
  if (!kind || !isSlug(id)) return null;
  return { kind, id };
}

/** Wildcard for watching one kind, e.g. 'vs.>' (NATS KV key filters use subject wildcards). */
export const desiredKeyFilter = (kind: DesiredKind): string => `${KEY_PREFIX[kind]}.>`;

/**
 * Checks that `obj` may be stored under `key`: the key's kind and id must be the object's.
 * Returns a plain-words problem, or null when they agree.
 */
export function keyMismatch(key: string, obj: DesiredObject): string | null {
  const parsed = parseDesiredKey(key);
  if (!parsed) return `key ${JSON.stringify(key)} is not a desired-state key (expected <prefix>.<id>, e.g. vs.web)`;
  if (parsed.kind !== obj.kind) return `key ${key} holds ${parsed.kind} objects, not ${obj.kind}`;
  if (parsed.id !== idOf(obj)) return `key ${key} is for ${JSON.stringify(parsed.id)} but the object's ${obj.kind === 'host' ? 'name' : 'id'} is ${JSON.stringify(idOf(obj))}`;
  return null;
}

// Status: latest observed state per (event type, host, subject), refreshed by its publisher.

/** Status entries expire after this long without a refresh: publishers re-put theirs at least every 30 s. */
export const STATUS_TTL_MS = 120_000;
export const STATUS_BUCKET = 'fulcrum-status';

/**
 * Encodes any text as one KV key token: letters, digits, '-' and '_' stay, every other byte becomes `=XX` (hex),
 * so '.' (the token separator) and ':' (in IPv6) are safe and the mapping reverses exactly.
 */
export function kvToken(text: string): string {
  if (text === '') throw new DesiredKeyError('a KV key token must not be empty');
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `=${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Reverses kvToken. */
export function parseKvToken(token: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '=') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(token.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Status key, e.g. statusKey('health', 'director1', 'web', '192.168.80.139:80') = 'health.director1.web.192=2e168...'. */
export function statusKey(type: string, hostName: string, ...subject: string[]): string {
  if (!isSlug(type)) throw new DesiredKeyError(`status type ${JSON.stringify(type)} is not a valid token`);
  if (!isSlug(hostName)) throw new DesiredKeyError(`host name ${JSON.stringify(hostName)} is not a valid host name`);
  return [type, hostName, ...subject.map(kvToken)].join('.');
}
