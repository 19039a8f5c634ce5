import { REDACTED, isSecretKey } from '@fulcrum/schemas';

// Reads return secrets as '[redacted]'; a client that sends such an object back (GET, edit, PUT) means "keep the
// stored secret", so the placeholder is replaced by the stored value at the same path before validation.

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function keepStoredSecrets(incoming: unknown, stored: unknown): unknown {
  if (Array.isArray(incoming)) {
    return incoming.map((v, i) => keepStoredSecrets(v, Array.isArray(stored) ? stored[i] : undefined));
  }
  if (!isPlainObject(incoming)) return incoming;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(incoming)) {
    const old = isPlainObject(stored) ? stored[k] : undefined;
    out[k] = isSecretKey(k) && v === REDACTED && old !== undefined ? old : keepStoredSecrets(v, old);
  }
  return out;
}

/** True when a '[redacted]' placeholder is left anywhere (no stored secret to keep): refused, not stored. */
export function redactedPath(value: unknown, path = ''): string | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = redactedPath(value[i], `${path}[${i}]`);
      if (p !== null) return p;
    }
    return null;
  }
  if (!isPlainObject(value)) return null;
  for (const [k, v] of Object.entries(value)) {
    const here = path ? `${path}.${k}` : k;
    if (isSecretKey(k) && v === REDACTED) return here;
    const p = redactedPath(v, here);
    if (p !== null) return p;
  }
  return null;
}
