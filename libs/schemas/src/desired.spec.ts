import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commandReply } from './commands.js';
import {
  DESIRED_BUCKET,
  DesiredKeyError,
  STATUS_TTL_MS,
  desiredBucket,
  desiredKey,
  desiredKeyFilter,
  desiredObject,
  keyMismatch,
  keyOf,
  kvToken,
  parseDesiredKey,
  parseKvToken,
  statusKey,
} from './desired.js';
import { fulcrumEvent, statusBucket } from './events.js';
import { checkContract } from './issues.js';

// NATS KV keys allow [-/_=.a-zA-Z0-9]; a key must not start or end with '.'.
const KV_KEY = /^[-/_=a-zA-Z0-9]+(\.[-/_=a-zA-Z0-9]+)*$/;

describe('desired-state bucket and keys', () => {
  it('defines the buckets', () => {
    expect(desiredBucket).toMatchObject({ bucket: DESIRED_BUCKET, history: 10 });
    expect(desiredBucket.ttlMs).toBeUndefined();
    expect(statusBucket).toMatchObject({ bucket: 'fulcrum-status', ttlMs: STATUS_TTL_MS, history: 1 });
  });

  it('makes and parses keys per kind', () => {
    expect(desiredKey('virtual-service', 'web')).toBe('vs.web');
    expect(desiredKey('vrrp-instance', 'vi-1')).toBe('vrrp.vi-1');
    expect(desiredKey('host', 'director1')).toBe('host.director1');
    expect(desiredKey('session-store', 'sessions')).toBe('session-store.sessions');
    expect(desiredKey('replication-cluster', 'mysql')).toBe('replication.mysql');
    expect(parseDesiredKey('replication.mysql')).toEqual({ kind: 'replication-cluster', id: 'mysql' });
    expect(parseDesiredKey('session-store.sessions')).toEqual({ kind: 'session-store', id: 'sessions' });
    expect(parseDesiredKey('vs.web')).toEqual({ kind: 'virtual-service', id: 'web' });
    expect(parseDesiredKey('vs.Web')).toBeNull();
    expect(parseDesiredKey('other.web')).toBeNull();
    expect(parseDesiredKey('vs')).toBeNull();
    expect(parseDesiredKey('vs.web.extra')).toBeNull();
    expect(desiredKeyFilter('virtual-service')).toBe('vs.>');
  });

  it('refuses an id that is not a slug, saying why', () => {
    expect(() => desiredKey('virtual-service', 'my web')).toThrow(DesiredKeyError);
    expect(() => desiredKey('virtual-service', 'a.b')).toThrow(/virtual-service id "a.b" must be 1-63 characters/);
  });

  it('keyOf and keyMismatch tie objects to their keys', () => {
    const vs = desiredObject.parse({ kind: 'virtual-service', id: 'web', match: { kind: 'fwmark', fwmark: 1 } });
    const h = desiredObject.parse({ kind: 'host', name: 'director1', roles: ['director'] });
    expect(keyOf(vs)).toBe('vs.web');
    expect(keyOf(h)).toBe('host.director1');
    expect(keyMismatch('vs.web', vs)).toBeNull();
    expect(keyMismatch('vs.api', vs)).toBe('key vs.api is for "api" but the object\'s id is "web"');
    expect(keyMismatch('host.web', vs)).toBe('key host.web holds host objects, not virtual-service');
    expect(keyMismatch('web', vs)).toBe('key "web" is not a desired-state key (expected <prefix>.<id>, e.g. vs.web)');
    expect(keyMismatch('host.director2', h)).toBe('key host.director2 is for "director2" but the object\'s name is "director1"');
  });

  it('the bucket schema refuses an object of unknown kind', () => {
    expect(checkContract(desiredBucket.schema, { kind: 'pool', id: 'x' })).toEqual({
      ok: false,
      issues: [{ path: 'kind', message: 'must be one of: virtual-service, vrrp-instance, host, session-store, replication-cluster' }],
    });
  });
});

describe('status keys', () => {
  it('encode any subject into valid, reversible KV tokens', () => {
    const key = statusKey('health', 'director1', 'web', '2001:db8::1', '80');
    expect(key).toBe('health.director1.web.2001=3adb8=3a=3a1.80');
    expect(key).toMatch(KV_KEY);
    expect(statusKey('health', 'director1', '192.168.80.139')).toBe('health.director1.192=2e168=2e80=2e139');
    for (const s of ['192.168.80.139', '2001:db8::1', 'a b/c', 'ünï', 'x=y', 'plain-token_1']) {
      expect(kvToken(s)).toMatch(/^[-_=a-zA-Z0-9]+$/);
      expect(parseKvToken(kvToken(s))).toBe(s);
    }
  });

  it('refuses a host name or type that is not a token, and an empty subject', () => {
    expect(() => statusKey('health', 'Director 1')).toThrow(/host name "Director 1"/);
    expect(() => statusKey('health.x', 'director1')).toThrow(/status type/);
    expect(() => statusKey('health', 'director1', '')).toThrow(/must not be empty/);
  });
});

describe('JSON Schema for the API documentation', () => {
  it('converts every contract schema both ways, with secrets marked writeOnly', () => {
    for (const io of ['input', 'output'] as const) {
      for (const schema of [desiredObject, fulcrumEvent, commandReply]) {
        expect(() => z.toJSONSchema(schema, { io })).not.toThrow();
      }
    }
    const text = JSON.stringify(z.toJSONSchema(desiredObject, { io: 'input' }));
    const writeOnly: string[] = [];
    const walk = (node: unknown, key: string): void => {
      if (node === null || typeof node !== 'object') return;
      if ((node as { writeOnly?: boolean }).writeOnly) writeOnly.push(key);
      for (const [k, v] of Object.entries(node)) walk(v, k);
    };
    walk(JSON.parse(text), '');
    expect(writeOnly.sort()).toEqual(['clientPassword', 'password', 'password', 'password', 'sentinelPassword', 'sentinelPassword']);
  });
});
