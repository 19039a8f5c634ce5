import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ContractError, checkContract, formatIssues, formatIssuesText, formatPath, parseContract } from './issues.js';

const demo = z
  .object({
    name: z.string().min(1).max(5),
    port: z.number().int().min(1).max(65535),
    ratio: z.number().positive().lt(1),
    mode: z.enum(['nat', 'dr']),
    tags: z.array(z.string()).min(1).max(2),
    only: z.literal('x').optional(),
    nested: z.object({ list: z.array(z.object({ on: z.boolean() }).strict()) }).strict().optional(),
  })
  .strict();

const issuesOf = (value: unknown) => {
  const r = checkContract(demo, value);
  if (r.ok) throw new Error('expected problems');
  return r.issues;
};

const good = { name: 'a', port: 80, ratio: 0.5, mode: 'nat', tags: ['t'] };

describe('formatIssues', () => {
  it('names each field with its path and says what is wrong in plain words', () => {
    expect(issuesOf({ ...good, name: '', port: 70000, ratio: 1, mode: 'tun', tags: [] })).toEqual([
      { path: 'name', message: 'must not be empty' },
      { path: 'port', message: 'must be at most 65535' },
      { path: 'ratio', message: 'must be less than 1' },
      { path: 'mode', message: 'must be one of: nat, dr' },
      { path: 'tags', message: 'must not be empty' },
    ]);
    expect(issuesOf({ ...good, name: 'toolong', port: 0.5, ratio: 0, tags: ['a', 'b', 'c'], only: 'y' })).toEqual([
      { path: 'name', message: 'must be at most 5 characters long' },
      { path: 'port', message: 'must be a whole number (got number 0.5)' },
      { path: 'ratio', message: 'must be greater than 0' },
      { path: 'tags', message: 'allows at most 2 entries' },
      { path: 'only', message: 'must be "x"' },
    ]);
  });

  it('reports missing fields, wrong types and unknown fields', () => {
    expect(issuesOf({ port: '80', ratio: 0.5, mode: 'nat', tags: 'x', extra: 1, nested: { list: [{ on: 'yes', of: 1 }] } })).toEqual([
      { path: 'name', message: 'is required' },
      { path: 'port', message: 'must be a number (got the text "80")' },
      { path: 'tags', message: 'must be a list (got the text "x")' },
      { path: 'nested.list[0].on', message: 'must be true or false (got the text "yes")' },
      { path: 'nested.list[0].of', message: 'is not a known field (check its spelling)' },
      { path: 'extra', message: 'is not a known field (check its spelling)' },
    ]);
  });

  it('works without the input attached (a ZodError from a plain parse)', () => {
    const r = demo.safeParse({ ...good, name: undefined, port: 'x' });
    if (r.success) throw new Error('expected failure');
    expect(formatIssues(r.error)).toEqual([
      { path: 'name', message: 'is required' },
      { path: 'port', message: 'must be a number (got a string)' },
    ]);
  });

  it('explains a union by the branch that came closest', () => {
    const u = z.object({ target: z.union([z.object({ fwmark: z.number() }).strict(), z.object({ address: z.string(), port: z.number() }).strict()]) });
    const r = checkContract(u, { target: { address: '10.0.0.1', port: 'x' } });
    expect(r).toEqual({ ok: false, issues: [{ path: 'target.port', message: 'must be a number (got the text "x")' }] });
  });

  it('never repeats the value of a secret field', () => {
    const s = z.object({ auth: z.object({ password: z.string() }) });
    expect(checkContract(s, { auth: { password: 12345678 } })).toEqual({
      ok: false,
      issues: [{ path: 'auth.password', message: 'must be text (got a number)' }],
    });
  });

  it('keeps messages written for the schema', () => {
    const s = z.object({ id: z.string().regex(/^[a-z]+$/, { message: 'must be lowercase letters' }) });
    expect(checkContract(s, { id: 'A' })).toEqual({ ok: false, issues: [{ path: 'id', message: 'must be lowercase letters' }] });
  });

  it('formats paths with indexes and odd keys', () => {
    expect(formatPath(['realServers', 1, 'port'])).toBe('realServers[1].port');
    expect(formatPath(['priorities', 'director1'])).toBe('priorities.director1');
    expect(formatPath(['labels', 'a.b'])).toBe('labels["a.b"]');
    expect(formatPath([])).toBe('');
  });
});

describe('did you mean', () => {
  const vs = z
    .object({
      persistenceTimeout: z.number().optional(),
      realServers: z.array(z.object({ weight: z.number().optional(), port: z.number().optional() }).strict()).optional(),
      healthChecks: z.array(z.discriminatedUnion('type', [z.object({ type: z.literal('tcp'), retries: z.number().optional(), interval: z.number().optional() }).strict()])).optional(),
    })
    .strict();

  it('suggests the field for a typo or a keepalived spelling when the schema is known', () => {
    expect(checkContract(vs, { realServers: [{ wieght: 1 }], persistence_timeout: 50, healthChecks: [{ type: 'tcp', nb_get_retry: 3, delay_loop: 6 }] })).toEqual({
      ok: false,
      issues: [
        { path: 'realServers[0].wieght', message: 'is not a known field; did you mean weight?' },
        { path: 'healthChecks[0].nb_get_retry', message: 'is not a known field; did you mean retries?' },
        { path: 'healthChecks[0].delay_loop', message: 'is not a known field; did you mean interval?' },
        { path: 'persistence_timeout', message: 'is not a known field; did you mean persistenceTimeout?' },
      ],
    });
  });

  it('stays quiet when nothing is close, or without the schema', () => {
    expect(checkContract(vs, { colour: 'red' })).toEqual({ ok: false, issues: [{ path: 'colour', message: 'is not a known field (check its spelling)' }] });
    const r = vs.safeParse({ persistence_timeout: 1 });
    if (r.success) throw new Error('expected failure');
    expect(formatIssues(r.error)).toEqual([{ path: 'persistence_timeout', message: 'is not a known field (check its spelling)' }]);
    expect(formatIssues(r.error, { schema: vs })).toEqual([{ path: 'persistence_timeout', message: 'is not a known field; did you mean persistenceTimeout?' }]);
  });
});

describe('parseContract and ContractError', () => {
  it('returns the parsed value or throws every problem at once', () => {
    expect(parseContract(demo, good)).toMatchObject(good);
    let err: unknown;
    try {
      parseContract(demo, { ...good, port: 0, mode: 'x' }, 'virtual service web');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ContractError);
    const ce = err as ContractError;
    expect(ce.name).toBe('ContractError');
    expect(ce.message).toBe('virtual service web: port: must be at least 1; mode: must be one of: nat, dr');
    expect(ce.issues).toHaveLength(2);
    expect(ce.cause).toBeInstanceOf(z.ZodError);
  });

  it('formatIssuesText gives one line per problem', () => {
    const r = demo.safeParse({ ...good, port: 0, tags: [] });
    if (r.success) throw new Error('expected failure');
    expect(formatIssuesText(r.error)).toBe('port: must be at least 1\ntags: must not be empty');
  });
});
