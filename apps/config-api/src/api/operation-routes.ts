import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  canonicalIp,
  type CommandReply,
  type DesiredObject,
  type RequestSubject,
  drainRealServer,
  enableRealServer,
  reloadConfig,
  vrrpFailover,
} from '@fulcrum/schemas';
import { z } from 'zod';
import type { DesiredService } from '../state/desired-service.js';
import { ApiError, NotFoundError, badField } from './errors.js';
import type { CommandSender } from './live.js';

// Operations are NATS commands to the agents concerned; the response carries every agent's reply. 200 when all
// succeeded, 502 COMMAND_FAILED (with the same body) when any did not.

const reasonBody = z.object({ reason: z.string().max(500).optional() }).strict();
const rsParams = z.object({ id: z.string().max(200), address: z.string().max(200), port: z.string().regex(/^\d{1,5}$/, { message: 'must be a port number' }) });
const idParams = z.object({ id: z.string().max(200) });
const reloadBody = z.object({ hosts: z.array(z.string().max(63)).max(1000).optional(), reason: z.string().max(500).optional() }).strict();

export interface HostReply {
  host: string;
  reply: CommandReply;
}

function body<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const i = r.error.issues[0];
    throw badField(i?.path.join('.') ?? '', i?.message ?? 'is invalid');
  }
  return r.data;
}

/** Directors: the hosts with that role; with none in the inventory, the hosts of the VRRP instances. */
function directors(objects: DesiredObject[]): string[] {
  const hosts = objects.filter((o) => o.kind === 'host' && o.roles.includes('director')).map((o) => (o.kind === 'host' ? o.name : ''));
  if (hosts.length > 0) return hosts;
  return [...new Set(objects.flatMap((o) => (o.kind === 'vrrp-instance' ? Object.keys(o.priorities) : [])))];
}

export function registerOperationRoutes(app: FastifyInstance, desired: DesiredService, commands: CommandSender | undefined): void {
  const sender = (): CommandSender => {
    if (!commands) throw new ApiError(503, 'UNAVAILABLE', 'operations need the NATS connection, which this server does not have');
    return commands;
  };
  const fanOut = async <Req>(subject: RequestSubject<Req, CommandReply>, hosts: string[], request: Req) => {
    const s = sender();
    return Promise.all(hosts.map(async (host): Promise<HostReply> => ({ host, reply: await s.send(subject, host, request) })));
  };
  const answer = (req: FastifyRequest, results: HostReply[], ok: boolean) => {
    req.log.info({ operation: req.routeOptions.url, by: req.principal?.name, results }, 'operation');
    if (!ok) throw new ApiError(502, 'COMMAND_FAILED', results.map((r) => `${r.host}: ${r.reply.message}`).join('; '), [], { ok: false, results });
    return { ok: true, results };
  };
  const objects = () => desired.list().map((o) => o.value);

  for (const [action, subject] of [
    ['drain', drainRealServer],
    ['enable', enableRealServer],
  ] as const) {
    app.post(
      `/v1/virtual-services/:id/real-servers/:address/:port/${action}`,
      {
        config: { role: 'operator' },
        schema: {
          tags: ['operations'],
          summary: action === 'drain' ? 'weight 0 on every director: existing connections finish' : 'undo a drain: the configured weight again',
          params: rsParams,
          body: reasonBody,
        },
      },
      async (req) => {
        const { id, port } = req.params as z.infer<typeof rsParams>;
        const address = canonicalIp((req.params as z.infer<typeof rsParams>).address);
        const { reason } = body(reasonBody, req.body);
        const vs = desired.get('virtual-service', id).value;
        if (vs.kind !== 'virtual-service' || !vs.realServers.some((rs) => rs.address === address && rs.port === Number(port))) {
          throw new NotFoundError(`virtual service "${id}" has no real server ${address} port ${port}`);
        }
        const hosts = directors(objects());
        if (hosts.length === 0) throw new ApiError(409, 'REFERENCED', 'no director is known: add hosts with the director role');
        const results = await fanOut(subject, hosts, { virtualService: id, address, port: Number(port), ...(reason ? { reason } : {}) });
        return answer(req, results, results.every((r) => r.reply.ok));
      },
    );
  }

  app.post(
    '/v1/vrrp-instances/:id/failover',
    { config: { role: 'operator' }, schema: { tags: ['operations'], summary: 'ask the master to hand over (it sends priority 0)', params: idParams, body: reasonBody } },
    async (req) => {
      const { id } = req.params as z.infer<typeof idParams>;
      const { reason } = body(reasonBody, req.body);
      const inst = desired.get('vrrp-instance', id).value;
      const hosts = inst.kind === 'vrrp-instance' ? Object.keys(inst.priorities) : [];
      const results = await fanOut(vrrpFailover, hosts, { instance: id, ...(reason ? { reason } : {}) });
      // Only the master can hand over; the backups answer CONFLICT, which is expected.
      const ok = results.some((r) => r.reply.ok) && results.every((r) => r.reply.ok || r.reply.code === 'CONFLICT');
      return answer(req, results, ok);
    },
  );

  app.post(
    '/v1/operations/reload',
    { config: { role: 'operator' }, schema: { tags: ['operations'], summary: 'agents re-read the desired state and their config, and reconcile', body: reloadBody } },
    async (req) => {
      const b = body(reloadBody, req.body);
      const known = objects().flatMap((o) => (o.kind === 'host' ? [o.name] : []));
      const hosts = b.hosts ?? known;
      b.hosts?.forEach((h, i) => {
        if (!known.includes(h)) throw badField(`hosts[${i}]`, `"${h}" is not in the host inventory`);
      });
      if (hosts.length === 0) throw badField('hosts', 'no hosts: the inventory is empty');
      const results = await fanOut(reloadConfig, hosts, b.reason ? { reason: b.reason } : {});
      return answer(req, results, results.every((r) => r.reply.ok));
    },
  );
}
