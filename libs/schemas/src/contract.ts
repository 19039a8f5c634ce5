import type { z } from 'zod';

/** Version of the wire contract; bumped on any incompatible schema change. */
export const SCHEMA_VERSION = 1 as const;

/**
 * A NATS subject whose payloads follow `schema`. `name` may hold `{token}` placeholders
 * filled by `subjectFor`; a subscription uses the wildcard form from `subjectPattern`.
 */
export interface Subject<T> {
  readonly name: string;
  readonly schema: z.ZodType<T>;
}

/** A request/reply subject: the request and the reply each have a schema. */
export interface RequestSubject<Req, Rep> {
  readonly name: string;
  readonly request: z.ZodType<Req>;
  readonly reply: z.ZodType<Rep>;
}

/** A JetStream KV bucket whose values follow `schema` (JSON-encoded). */
export interface Bucket<T> {
  readonly bucket: string;
  readonly schema: z.ZodType<T>;
  /** Entries expire after this many ms (status buckets); absent for desired state. */
  readonly ttlMs?: number;
  /** How many revisions of each key the server keeps. */
  readonly history?: number;
}

export const defineSubject = <T>(name: string, schema: z.ZodType<T>): Subject<T> => ({ name, schema });
export const defineRequest = <Req, Rep>(
  name: string,
  request: z.ZodType<Req>,
  reply: z.ZodType<Rep>,
): RequestSubject<Req, Rep> => ({ name, request, reply });
export const defineBucket = <T>(
  bucket: string,
  schema: z.ZodType<T>,
  opts: { ttlMs?: number; history?: number } = {},
): Bucket<T> => ({ bucket, schema, ...opts });

/** A subject name cannot be filled in: a missing token or one that would change the subject's shape. */
export class SubjectError extends Error {
  override readonly name = 'SubjectError';
}

const TOKEN = /\{([a-zA-Z]+)\}/g;
/** A NATS token may not contain '.', '*', '>' or whitespace. */
const SAFE_TOKEN = /^[^.*>\s]+$/;

/** Fills the `{token}` placeholders of a subject name; refuses tokens that would change its shape. */
export function subjectFor(name: string, tokens: Record<string, string>): string {
  return name.replace(TOKEN, (_, key: string) => {
    const value = tokens[key];
    if (value === undefined) throw new SubjectError(`subject ${name}: no value for {${key}}`);
    if (!SAFE_TOKEN.test(value)) throw new SubjectError(`subject ${name}: {${key}} = ${JSON.stringify(value)} is not a NATS token`);
    return value;
  });
}

/** The subscription pattern of a subject name: every `{token}` becomes `*`. */
export function subjectPattern(name: string): string {
  return name.replace(TOKEN, '*');
}
