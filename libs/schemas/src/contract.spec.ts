import { describe, expect, it } from 'vitest';
import { SubjectError, subjectFor, subjectPattern } from './contract.js';

describe('subject names', () => {
  it('fills tokens and builds the wildcard pattern', () => {
    expect(subjectFor('fulcrum.evt.{type}.{host}', { type: 'health', host: 'director1' })).toBe(
      'fulcrum.evt.health.director1',
    );
    expect(subjectPattern('fulcrum.evt.{type}.{host}')).toBe('fulcrum.evt.*.*');
  });

  it('refuses a token that would change the subject shape', () => {
    expect(() => subjectFor('fulcrum.cmd.{host}', { host: 'a.b' })).toThrow(/not a NATS token/);
    expect(() => subjectFor('fulcrum.cmd.{host}', { host: '>' })).toThrow(/not a NATS token/);
    expect(() => subjectFor('fulcrum.cmd.{host}', {})).toThrow(/no value for \{host\}/);
    expect(() => subjectFor('fulcrum.cmd.{host}', { host: 'a b' })).toThrow(SubjectError);
  });
});
