import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SCHEMA_VERSION, defineBucket, defineSubject, subjectFor } from './contract.js';
import type { Subject } from './contract.js';
import { STATUS_BUCKET, STATUS_TTL_MS, statusKey } from './desired.js';
import { HEALTH_CHECK_TYPES } from './health-check.js';
import { parseContract } from './issues.js';
import { anyPort, endpoint, ipAddr, slug } from './primitives.js';

// Observations flow as events: one envelope { id, time, source, type, schemaVersion, data }, a discriminated
// union on `type` so a subscriber gets typed data. Subject: fulcrum.evt.<type>.<host>.

export const SERVICES = [
  'ipvs-agent',
  'vrrp-agent',
  'health-checker',
  'config-api',
  'session-store-proxy',
  'replication-monitor',
  'cli',
] as const;
export const serviceName = z.enum(SERVICES);
export type ServiceName = z.infer<typeof serviceName>;

export const eventSource = z.object({ service: serviceName, host: slug }).strict();
export type EventSource = z.infer<typeof eventSource>;

const serverState = z.enum(['up', 'down']);

export const healthData = z
  .object({
    virtualService: slug,
    realServer: z.object({ address: ipAddr, port: anyPort }).strict(),
    state: serverState,
    previous: z.enum(['up', 'down', 'unknown']),
    /** Weight the checks ask for when they adjust it (script dynamicWeight, file weight); absent = configured. */
    weight: z.number().int().min(0).max(65535).optional(),
    /** The check results that led to this state. */
    checks: z.array(z.object({ type: z.enum(HEALTH_CHECK_TYPES), ok: z.boolean(), message: z.string().max(500).optional() }).strict()),
    reason: z.string().max(500),
  })
  .strict();

export const VRRP_STATES = ['initialize', 'backup', 'master', 'fault', 'stopped'] as const;
export const vrrpState = z.enum(VRRP_STATES);

export const vrrpStateData = z
  .object({
    instance: slug,
    state: vrrpState,
    previous: vrrpState,
    /** Effective priority at the time of the change (0 when leaving gracefully). */
    priority: z.number().int().min(0).max(255),
    reason: z.string().max(500),
  })
  .strict();

const count = z.number().int().min(0);

export const ipvsAppliedData = z
  .object({
    /** Revision of the desired-state bucket the table was computed from; null when applied from a file. */
    desiredRevision: count.nullable(),
    services: count,
    destinations: count,
    changes: z.object({ added: count, updated: count, removed: count }).strict(),
    durationMs: z.number().min(0),
    failures: z.array(z.object({ operation: z.string().max(300), message: z.string().max(500) }).strict()),
  })
  .strict();

export const replicationData = z
  .object({
    cluster: slug,
    node: slug,
    role: z.enum(['primary', 'replica']),
    state: z.enum(['ok', 'lagging', 'broken', 'unreachable']),
    /** Seconds behind the primary; null when unknown (not replicating, unreachable, or the primary itself). */
    lagSeconds: z.number().min(0).nullable(),
    ioRunning: z.boolean().nullable(),
    sqlRunning: z.boolean().nullable(),
    message: z.string().max(500).optional(),
  })
  .strict();

export const sessionStoreData = z
  .object({
    store: slug,
    state: z.enum(['ok', 'degraded', 'down']),
    /** The upstream master the proxy talks to now; null when none is reachable. */
    master: endpoint.nullable(),
    clients: count,
    message: z.string().max(500).optional(),
  })
  .strict();

export const heartbeatData = z
  .object({
    version: z.string().max(50),
    startedAt: z.iso.datetime({ offset: true }),
    ready: z.boolean(),
    /** Readiness checks by name (e.g. bus, kernel) and whether each passes. */
    checks: z.record(z.string(), z.boolean()).default({}),
  })
  .strict();

/** The data schema of each event type; the type is also the subject token. */
export const EVENT_DATA = {
  health: healthData,
  'vrrp-state': vrrpStateData,
  'ipvs-applied': ipvsAppliedData,
  replication: replicationData,
  'session-store': sessionStoreData,
  heartbeat: heartbeatData,
} as const;
export type EventType = keyof typeof EVENT_DATA;
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];

const envelope = <T extends EventType>(type: T) =>
  z
    .object({
      id: z.uuid(),
      time: z.iso.datetime({ offset: true }),
      source: eventSource,
      type: z.literal(type),
      schemaVersion: z.literal(SCHEMA_VERSION),
      data: EVENT_DATA[type],
    })
    .strict();

export const healthEvent = envelope('health');
export const vrrpStateEvent = envelope('vrrp-state');
export const ipvsAppliedEvent = envelope('ipvs-applied');
export const replicationEvent = envelope('replication');
export const sessionStoreEvent = envelope('session-store');
export const heartbeatEvent = envelope('heartbeat');

export const fulcrumEvent = z.discriminatedUnion('type', [
  healthEvent,
  vrrpStateEvent,
  ipvsAppliedEvent,
  replicationEvent,
  sessionStoreEvent,
  heartbeatEvent,
]);
export type FulcrumEvent = z.infer<typeof fulcrumEvent>;
export type EventOf<T extends EventType> = Extract<FulcrumEvent, { type: T }>;
export type EventData<T extends EventType> = EventOf<T>['data'];
/** What makeEvent accepts as data: defaults may be left out. */
export type EventDataInput<T extends EventType> = z.input<(typeof EVENT_DATA)[T]>;

/** Builds a validated event; throws ContractError naming the bad field. */
export function makeEvent<T extends EventType>(
  type: T,
  source: EventSource,
  data: EventDataInput<T>,
  opts: { id?: string; time?: Date } = {},
): EventOf<T> {
  const event = {
    id: opts.id ?? randomUUID(),
    time: (opts.time ?? new Date()).toISOString(),
    source,
    type,
    schemaVersion: SCHEMA_VERSION,
    data,
  };
  return parseContract(fulcrumEvent, event, `${type} event`) as EventOf<T>;
}

/** Subject name of events: fulcrum.evt.<type>.<host>. */
export const EVENT_SUBJECT = 'fulcrum.evt.{type}.{host}';

/** Every event type on one subject (subscribe with subjectPattern to get them all). */
export const eventsSubject: Subject<FulcrumEvent> = defineSubject(EVENT_SUBJECT, fulcrumEvent);

/** One subject per event type, so a subscriber to one type gets its data typed. */
export const EVENT_SUBJECTS: { readonly [T in EventType]: Subject<EventOf<T>> } = {
  health: defineSubject('fulcrum.evt.health.{host}', healthEvent),
  'vrrp-state': defineSubject('fulcrum.evt.vrrp-state.{host}', vrrpStateEvent),
  'ipvs-applied': defineSubject('fulcrum.evt.ipvs-applied.{host}', ipvsAppliedEvent),
  replication: defineSubject('fulcrum.evt.replication.{host}', replicationEvent),
  'session-store': defineSubject('fulcrum.evt.session-store.{host}', sessionStoreEvent),
  heartbeat: defineSubject('fulcrum.evt.heartbeat.{host}', heartbeatEvent),
};

/** The subject an event is published on, from its own type and source host. */
export const eventSubjectFor = (event: Pick<FulcrumEvent, 'type' | 'source'>): string =>
  subjectFor(EVENT_SUBJECT, { type: event.type, host: event.source.host });

/** Latest observed state: the last event per status key, expiring after STATUS_TTL_MS without a refresh. */
export const statusBucket = defineBucket(STATUS_BUCKET, fulcrumEvent, { ttlMs: STATUS_TTL_MS, history: 1 });

/**
 * The status key an event is kept under: one entry per thing observed, so the bucket holds the latest of each.
 * e.g. health.director1.web.10=2e0=2e1=2e1.80, vrrp-state.director1.vi-1, heartbeat.director1.ipvs-agent.
 */
export function statusKeyOf(event: FulcrumEvent): string {
  const host = event.source.host;
  switch (event.type) {
    case 'health':
      return statusKey(event.type, host, event.data.virtualService, event.data.realServer.address, String(event.data.realServer.port));
    case 'vrrp-state':
      return statusKey(event.type, host, event.data.instance);
    case 'ipvs-applied':
      return statusKey(event.type, host);
    case 'replication':
      return statusKey(event.type, host, event.data.cluster, event.data.node);
    case 'session-store':
      return statusKey(event.type, host, event.data.store);
    case 'heartbeat':
      return statusKey(event.type, host, event.source.service);
  }
}
