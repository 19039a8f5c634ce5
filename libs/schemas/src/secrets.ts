// Secrets in the contract (VRRP auth password, Redis passwords, monitor credentials, API tokens) are recognised by
// their field name, at any depth, so that loggers and API reads redact them without knowing every schema.

/** Field names whose values are secrets wherever they appear. */
export const SECRET_KEYS = [
  'password',
  'sentinelPassword',
  'clientPassword',
  'token',
  'apiToken',
  'authorization',
  'secret',
  'creds',
] as const;

export const REDACTED = '[redacted]';

const SECRET_KEY_SET: ReadonlySet<string> = new Set(SECRET_KEYS);

/** True when a field of this name holds a secret. */
export const isSecretKey = (key: string): boolean => SECRET_KEY_SET.has(key);

/** How deep below a logged object pino looks for secret fields (pino paths have no recursive wildcard). */
const PINO_DEPTH = 5;

/**
 * pino `redact.paths` for every secret field name down to PINO_DEPTH levels below the log line's root,
 * e.g. 'password', '*.password', '*.*.password', plus the HTTP authorization header.
 */
export const SECRET_PATHS: readonly string[] = [
  ...SECRET_KEYS.flatMap((key) => Array.from({ length: PINO_DEPTH + 1 }, (_, depth) => [...Array<string>(depth).fill('*'), key].join('.'))),
  'req.headers.authorization',
  'req.headers["x-api-token"]',
];

/**
 * A deep copy of `value` with every secret field replaced by '[redacted]'. Plain objects and arrays are copied;
 * other values (dates, buffers, class instances) are kept as they are.
 */
export function redactSecrets<T>(value: T): T {
  return redact(value, new WeakSet()) as T;
}

function redact(value: unknown, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (Array.isArray(value)) {
    seen.add(value);
    const out = value.map((v) => redact(v, seen));
    seen.delete(value);
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redact(v, seen);
  }
  seen.delete(value);
  return out;
}
