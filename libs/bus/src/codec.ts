import { subjectFor } from '@fulcrum/schemas';
import type { z } from 'zod';
import { InvalidMessageError } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Validates `value` with `schema` and encodes what the schema outputs as JSON; throws InvalidMessageError. */
export function encodeValue<T>(schema: z.ZodType<T>, value: T, subject: string): Uint8Array {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidMessageError(subject, parsed.error.issues);
  try {
    return encoder.encode(JSON.stringify(parsed.data));
  } catch (err) {
    // e.g. a bigint the schema let through
    throw new InvalidMessageError(subject, [{ code: 'not_json', path: [], message: `cannot be JSON-encoded: ${String(err)}` }], {
      cause: err,
    });
  }
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: InvalidMessageError };

/** Parses JSON and validates it with `schema`; never throws. */
export function decodeValue<T>(schema: z.ZodType<T>, data: Uint8Array, subject: string): Decoded<T> {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch (err) {
    const issue = { code: 'not_json', path: [], message: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
    return { ok: false, error: new InvalidMessageError(subject, [issue], { cause: err }) };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, error: new InvalidMessageError(subject, parsed.error.issues) };
}

/**
 * The subject to subscribe to: given tokens are filled in (and checked), missing ones become `*`.
 * `subscriptionSubject('fulcrum.evt.{type}.{host}', { host: 'd1' })` = `fulcrum.evt.*.d1`.
 */
export function subscriptionSubject(name: string, tokens: Readonly<Record<string, string>>): string {
  return subjectFor(
    name.replace(/\{([a-zA-Z]+)\}/g, (whole, key: string) => (tokens[key] === undefined ? '*' : whole)),
    tokens,
  );
}

/** The token values of a concrete subject: `tokensOf('a.{host}', 'a.d1')` = `{ host: 'd1' }`. */
export function tokensOf(name: string, subject: string): Record<string, string> {
  const parts = subject.split('.');
  const tokens: Record<string, string> = {};
  name.split('.').forEach((part, i) => {
    const m = /^\{([a-zA-Z]+)\}$/.exec(part);
    const value = parts[i];
    if (m?.[1] && value !== undefined) tokens[m[1]] = value;
  });
  return tokens;
}

/** NATS subject matching of a key: `*` matches one token, a final `>` one or more. */
export function keyMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return i === p.length - 1 && k.length > i;
    if (i >= k.length || (p[i] !== '*' && p[i] !== k[i])) return false;
  }
  return p.length === k.length;
}
