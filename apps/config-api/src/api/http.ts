import type { FastifyReply, FastifyRequest } from 'fastify';
import { badField } from './errors.js';

/** A revision from If-Match: `"12"`, `W/"12"` or `12`; `*` means "any existing revision". */
export function ifMatch(req: FastifyRequest): number | '*' | undefined {
  const raw = req.headers['if-match'];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw.join(',') : raw;
  if (text.trim() === '*') return '*';
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(text);
  if (!m) throw badField('headers.if-match', `${JSON.stringify(text.slice(0, 40))} is not a revision: send the ETag you read, e.g. "12"`);
  return Number(m[1]);
}

export function ifNoneMatchAny(req: FastifyRequest): boolean {
  const raw = req.headers['if-none-match'];
  if (raw === undefined) return false;
  if (raw.trim() === '*') return true;
  throw badField('headers.if-none-match', 'only "*" (create, do not replace) is supported');
}

export const etag = (revision: number): string => `"${revision}"`;

export function setEtag(reply: FastifyReply, revision: number): void {
  void reply.header('etag', etag(revision));
}
