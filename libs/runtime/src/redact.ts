import { SECRET_KEYS as CONTRACT_SECRET_KEYS } from '@fulcrum/schemas';

/**
 * Secret key names outside the contract: keepalived's and Redis's spellings (`auth_pass`,
 * `requirepass`), HTTP headers, NATS credentials and nkey seeds, API keys.
 */
const EXTRA_SECRET_KEYS = [
  'password',
  'pass',
  'passwd',
  'authPass',
  'auth_pass',
  'authPassword',
  'requirepass',
  'masterauth',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'apiKey',
  'privateKey',
  'seed',
  'nkey',
  'creds',
  'credentials',
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
] as const;

/**
 * Names of keys whose values are secrets wherever they appear: the contract's (`@fulcrum/schemas`)
 * and the extra ones above. Matched case-insensitively at any depth by `redactSecrets`, which the
 * logger applies to every line.
 */
export const SECRET_KEYS: readonly string[] = [...new Set([...CONTRACT_SECRET_KEYS, ...EXTRA_SECRET_KEYS])];

export const REDACTED = '[redacted]';

const secretKeys = new Set(SECRET_KEYS.map((k) => k.toLowerCase()));

/** Beyond this depth values are left as they are (and cycles end here). */
const MAX_DEPTH = 12;

/**
 * A copy of `value` with the value of every secret key (case-insensitive) replaced by `[redacted]`,
 * at any depth, in plain objects and arrays. Class instances (errors, dates, buffers) are kept as
 * they are, so the logger's serializers still see them.
 */
export function redactSecrets<T>(value: T): T {
  return walk(value, 0) as T;
}

function walk(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = secretKeys.has(k.toLowerCase()) && v !== undefined && v !== null ? REDACTED : walk(v, depth + 1);
  }
  return out;
}
