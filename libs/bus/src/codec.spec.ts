import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeValue, encodeValue, keyMatches, subscriptionSubject, tokensOf } from './codec.js';
import { InvalidMessageError, RevisionConflictError } from './errors.js';

const health = z.object({ server: z.string(), weight: z.number().int().min(0).max(65535), up: z.boolean().default(true) });
const bytes = (s: string) => new TextEncoder().encode(s);

describe('encodeValue', () => {
  it('refuses a value that breaks the schema, naming the field and the subject', () => {
    const err = (() => {
      try {
        encodeValue(health, { server: 'r1', weight: 70000 } as z.infer<typeof health>, 'fulcrum.evt.health.d1');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidMessageError);
    expect((err as InvalidMessageError).message).toMatch(/^invalid message on fulcrum\.evt\.health\.d1: weight: Too big/);
    expect((err as InvalidMessageError).issues[0]?.path).toEqual(['weight']);
  });

  it('sends what the schema outputs (defaults filled in)', () => {
    const data = encodeValue(health, { server: 'r1', weight: 5 } as z.infer<typeof health>, 's');
    expect(JSON.parse(new TextDecoder().decode(data))).toEqual({ server: 'r1', weight: 5, up: true });
  });
});

describe('decodeValue', () => {
  it('returns the parsed value of a valid message', () => {
    expect(decodeValue(health, bytes('{"server":"r1","weight":1}'), 's')).toEqual({
      ok: true,
      value: { server: 'r1', weight: 1, up: true },
    });
  });

  it('reports JSON that does not parse, and JSON that does not fit, without throwing', () => {
    const notJson = decodeValue(health, bytes('{"server":'), 'a.b');
    expect(notJson.ok).toBe(false);
    if (!notJson.ok) expect(notJson.error.message).toMatch(/^invalid message on a\.b: not JSON/);
    const wrong = decodeValue(health, bytes('{"server":"r1","weight":"heavy"}'), 'a.b');
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.error.message).toMatch(/weight: Invalid input: expected number, received string/);
  });
});

describe('subjects', () => {
  it('fills the tokens it is given and matches any value for the others', () => {
    expect(subscriptionSubject('fulcrum.evt.{type}.{host}', { host: 'd1' })).toBe('fulcrum.evt.*.d1');
    expect(subscriptionSubject('fulcrum.evt.{type}.{host}', {})).toBe('fulcrum.evt.*.*');
    expect(() => subscriptionSubject('fulcrum.evt.{type}.{host}', { host: 'a.b' })).toThrow(/not a NATS token/);
  });

  it('reads the tokens back from a concrete subject', () => {
    expect(tokensOf('fulcrum.evt.{type}.{host}', 'fulcrum.evt.health.d1')).toEqual({ type: 'health', host: 'd1' });
  });
});

describe('keyMatches', () => {
  it('matches keys as NATS matches subjects', () => {
    expect(keyMatches('vs.web', 'vs.web')).toBe(true);
    expect(keyMatches('vs.*', 'vs.web')).toBe(true);
    expect(keyMatches('vs.*', 'vs.web.x')).toBe(false);
    expect(keyMatches('vs.>', 'vs.web.x')).toBe(true);
    expect(keyMatches('vs.>', 'vs')).toBe(false);
    expect(keyMatches('>', 'host.d1')).toBe(true);
    expect(keyMatches('vs.web', 'vs.web2')).toBe(false);
    expect(keyMatches('vs.web.x', 'vs.web')).toBe(false);
  });
});

describe('RevisionConflictError', () => {
  it('says what was expected and what the key is at', () => {
    expect(new RevisionConflictError('desired', 'vs.web', 4, 7).message).toBe('desired/vs.web: expected to be at revision 4 (it is at revision 7)');
    expect(new RevisionConflictError('desired', 'vs.web', 0, 7).message).toBe('desired/vs.web: expected not to exist (it is at revision 7)');
    expect(new RevisionConflictError('desired', 'vs.web', 3, 0).message).toBe('desired/vs.web: expected to be at revision 3 (it does not exist)');
  });
});
