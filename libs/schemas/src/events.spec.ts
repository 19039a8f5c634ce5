import { describe, expect, expectTypeOf, it } from 'vitest';
import { SCHEMA_VERSION, subjectPattern } from './contract.js';
import { EVENT_SUBJECT, EVENT_SUBJECTS, EVENT_TYPES, eventSubjectFor, eventsSubject, fulcrumEvent, makeEvent, statusKeyOf } from './events.js';
import type { FulcrumEvent } from './events.js';
import { ContractError, checkContract } from './issues.js';

const source = { service: 'vrrp-agent', host: 'director1' } as const;

describe('event envelope', () => {
  it('makeEvent builds a complete, valid envelope', () => {
    const e = makeEvent('vrrp-state', source, { instance: 'vi-1', state: 'master', previous: 'backup', priority: 100, reason: 'master down timer expired' });
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Date(e.time).toISOString()).toBe(e.time);
    expect(e).toMatchObject({ source, type: 'vrrp-state', schemaVersion: SCHEMA_VERSION, data: { state: 'master' } });
    expect(fulcrumEvent.parse(JSON.parse(JSON.stringify(e)))).toEqual(e);
  });

  it('takes a fixed id and time, and fills data defaults', () => {
    const time = new Date('2026-11-22T00:00:00.000Z');
    const e = makeEvent(
      'heartbeat',
      { service: 'ipvs-agent', host: 'director1' },
      { version: '0.1.0', startedAt: time.toISOString(), ready: true },
      { id: '5b7c1d1e-8f55-4a36-9a63-1f3f9d1e2a10', time },
    );
    expect(e).toMatchObject({ id: '5b7c1d1e-8f55-4a36-9a63-1f3f9d1e2a10', time: '2026-11-22T00:00:00.000Z', data: { checks: {} } });
  });

  it('refuses bad data with the field named', () => {
    expect(() =>
      makeEvent('health', { service: 'health-checker', host: 'director1' }, {
        virtualService: 'web',
        realServer: { address: '10.0.1.300', port: 80 },
        state: 'down',
        previous: 'up',
        checks: [],
        reason: 'connect timeout',
      }),
    ).toThrow(ContractError);
    expect(() =>
      makeEvent('vrrp-state', { service: 'vrrp-agent', host: 'director.1' }, { instance: 'vi-1', state: 'master', previous: 'backup', priority: 100, reason: '' }),
    ).toThrow(/vrrp-state event: source.host: must be 1-63 characters/);
  });

  it('a subscriber narrows data by type', () => {
    const e: FulcrumEvent = makeEvent('replication', { service: 'replication-monitor', host: 'data1' }, {
      cluster: 'mysql',
      node: 'db2',
      role: 'replica',
      state: 'lagging',
      lagSeconds: 42,
      ioRunning: true,
      sqlRunning: true,
    });
    if (e.type === 'replication') {
      expectTypeOf(e.data.lagSeconds).toEqualTypeOf<number | null>();
      expect(e.data.lagSeconds).toBe(42);
    } else {
      throw new Error('expected a replication event');
    }
  });

  it('refuses another schema version and an unknown type', () => {
    const e = makeEvent('ipvs-applied', { service: 'ipvs-agent', host: 'director1' }, {
      desiredRevision: 7,
      services: 1,
      destinations: 2,
      changes: { added: 2, updated: 0, removed: 0 },
      durationMs: 3.5,
      failures: [],
    });
    expect(checkContract(fulcrumEvent, { ...e, schemaVersion: 2 })).toEqual({ ok: false, issues: [{ path: 'schemaVersion', message: 'must be 1' }] });
    expect(checkContract(fulcrumEvent, { ...e, type: 'restart' })).toEqual({
      ok: false,
      issues: [{ path: 'type', message: 'must be one of: health, vrrp-state, ipvs-applied, replication, session-store, heartbeat' }],
    });
  });
});

describe('event subjects', () => {
  it('fulcrum.evt.<type>.<host>, for all types and per type', () => {
    expect(EVENT_SUBJECT).toBe('fulcrum.evt.{type}.{host}');
    expect(subjectPattern(eventsSubject.name)).toBe('fulcrum.evt.*.*');
    for (const type of EVENT_TYPES) {
      expect(EVENT_SUBJECTS[type].name).toBe(`fulcrum.evt.${type}.{host}`);
      expect(type).toMatch(/^[a-z-]+$/);
    }
    const e = makeEvent('session-store', { service: 'session-store-proxy', host: 'tomcat1' }, {
      store: 'sessions',
      state: 'ok',
      master: { address: '10.0.3.5', port: 6379 },
      clients: 12,
    });
    expect(eventSubjectFor(e)).toBe('fulcrum.evt.session-store.tomcat1');
  });

  it('per-type subjects validate only their own type', () => {
    const e = makeEvent('vrrp-state', source, { instance: 'vi-1', state: 'fault', previous: 'master', priority: 0, reason: 'eth1 down' });
    expect(EVENT_SUBJECTS['vrrp-state'].schema.safeParse(e).success).toBe(true);
    expect(EVENT_SUBJECTS.health.schema.safeParse(e).success).toBe(false);
  });
});

describe('status keys of events', () => {
  it('one key per observed thing, so the latest event of each is kept', () => {
    const health = makeEvent('health', { service: 'health-checker', host: 'director1' }, {
      virtualService: 'web',
      realServer: { address: '2001:db8::1', port: 80 },
      state: 'up',
      previous: 'down',
      checks: [{ type: 'tcp', ok: true }],
      reason: 'connected',
    });
    expect(statusKeyOf(health)).toBe('health.director1.web.2001=3adb8=3a=3a1.80');
    const vrrp = makeEvent('vrrp-state', source, { instance: 'vi-1', state: 'backup', previous: 'master', priority: 100, reason: 'higher priority seen' });
    expect(statusKeyOf(vrrp)).toBe('vrrp-state.director1.vi-1');
    const beat = makeEvent('heartbeat', { service: 'ipvs-agent', host: 'director1' }, { version: '0.1.0', startedAt: new Date(0).toISOString(), ready: true });
    const beat2 = makeEvent('heartbeat', { service: 'vrrp-agent', host: 'director1' }, { version: '0.1.0', startedAt: new Date(0).toISOString(), ready: true });
    expect(statusKeyOf(beat)).toBe('heartbeat.director1.ipvs-agent');
    expect(statusKeyOf(beat2)).not.toBe(statusKeyOf(beat));
    const repl = makeEvent('replication', { service: 'replication-monitor', host: 'data1' }, {
      cluster: 'mysql',
      node: 'db2',
      role: 'replica',
      state: 'ok',
      lagSeconds: 0,
      ioRunning: true,
      sqlRunning: true,
    });
    expect(statusKeyOf(repl)).toBe('replication.data1.mysql.db2');
  });
});
