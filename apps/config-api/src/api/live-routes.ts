import type { FastifyInstance } from 'fastify';
import { EVENT_TYPES, type EventType, type FulcrumEvent } from '@fulcrum/schemas';
import { z } from 'zod';
import type { DesiredService } from '../state/desired-service.js';
import { ApiError } from './errors.js';
import type { EventFeed, StatusSource } from './live.js';

// Observed state: /v1/status assembles the status bucket (latest event per thing observed) around the desired
// state; /v1/events streams events as Server-Sent Events.

const typeList = z
  .string()
  .max(200)
  .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
  .pipe(z.array(z.enum(EVENT_TYPES as [EventType, ...EventType[]])));
const eventsQuery = z
  .object({
    /** Comma-separated event types. */
    type: typeList.optional(),
    /** Only events about this object: a virtual service, VRRP instance, cluster, store or host name. */
    object: z.string().max(200).optional(),
  })
  .strict();

const age = (now: number, e: FulcrumEvent) => Math.max(0, Math.round((now - Date.parse(e.time)) / 100) / 10);

/** The object names an event is about, for the `object` filter. */
export function subjectsOf(e: FulcrumEvent): string[] {
  const d = e.data as Record<string, unknown>;
  const out = [e.source.host];
  for (const k of ['virtualService', 'instance', 'cluster', 'node', 'store']) if (typeof d[k] === 'string') out.push(d[k] as string);
  const rs = d.realServer as { address?: string } | undefined;
  if (rs?.address) out.push(rs.address);
  return out;
}

export function buildStatus(desired: DesiredService, events: FulcrumEvent[], now = Date.now()) {
  const of = <T extends EventType>(t: T) => events.filter((e): e is Extract<FulcrumEvent, { type: T }> => e.type === t);
  const health = of('health');
  const virtualServices = desired.list('virtual-service').map(({ value }) => {
    if (value.kind !== 'virtual-service') return null;
    return {
      id: value.id,
      match: value.match,
      realServers: value.realServers.map((rs) => ({
        address: rs.address,
        port: rs.port,
        weight: rs.weight,
        health: health
          .filter((e) => e.data.virtualService === value.id && e.data.realServer.address === rs.address && e.data.realServer.port === rs.port)
          .map((e) => ({ host: e.source.host, state: e.data.state, reason: e.data.reason, ageSeconds: age(now, e) })),
      })),
    };
  });
  const vrrp = desired.list('vrrp-instance').map(({ value }) => {
    const id = value.kind === 'vrrp-instance' ? value.id : '';
    return {
      instance: id,
      directors: of('vrrp-state')
        .filter((e) => e.data.instance === id)
        .map((e) => ({ host: e.source.host, state: e.data.state, priority: e.data.priority, ageSeconds: age(now, e) })),
    };
  });
  return {
    generation: desired.generation,
    time: new Date(now).toISOString(),
    kernel: of('ipvs-applied').map((e) => ({
      host: e.source.host,
      desiredRevision: e.data.desiredRevision,
      services: e.data.services,
      destinations: e.data.destinations,
      failures: e.data.failures,
      ageSeconds: age(now, e),
    })),
    virtualServices: virtualServices.filter((v) => v !== null),
    vrrp,
    replication: of('replication').map((e) => ({ host: e.source.host, ...e.data, ageSeconds: age(now, e) })),
    sessionStores: of('session-store').map((e) => ({ host: e.source.host, ...e.data, ageSeconds: age(now, e) })),
    services: of('heartbeat').map((e) => ({ host: e.source.host, service: e.source.service, ready: e.data.ready, version: e.data.version, ageSeconds: age(now, e) })),
  };
}

export function registerLiveRoutes(app: FastifyInstance, desired: DesiredService, status: StatusSource | undefined, feed: EventFeed | undefined): void {
  app.get('/v1/status', { config: { role: 'reader' }, schema: { tags: ['status'], summary: 'observed state: kernel, health, VRRP, replication, session stores, with ages' } }, async () => {
    if (!status) throw new ApiError(503, 'UNAVAILABLE', 'the status bucket is not reachable from this server');
    return buildStatus(desired, await status.all());
  });

  app.get(
    '/v1/events',
    { config: { role: 'reader' }, schema: { tags: ['status'], summary: 'Server-Sent Events: every event, filterable by type and object', querystring: eventsQuery } },
    async (req, reply) => {
      if (!feed) throw new ApiError(503, 'UNAVAILABLE', 'the event stream needs the NATS connection, which this server does not have');
      const q = req.query as z.infer<typeof eventsQuery>;
      const types = q.type && q.type.length > 0 ? new Set(q.type) : null;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': fulcrum events\n\n');
      const stop = feed.subscribe((e) => {
        if (types && !types.has(e.type)) return;
        if (q.object !== undefined && !subjectsOf(e).includes(q.object)) return;
        res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      });
      // Proxies drop idle streams; a comment every 15 s keeps it open.
      const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
      const end = () => {
        clearInterval(ping);
        stop();
      };
      req.raw.on('close', end);
      res.on('close', end);
    },
  );
}
