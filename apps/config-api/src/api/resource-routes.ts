import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type DesiredKind,
  type DesiredObject,
  checkContract,
  desiredKey,
  host,
  isSlug,
  realServer,
  redactSecrets,
  replicationClusterObject,
  sessionStoreObject,
  virtualServiceObject,
  vrrpInstanceObject,
} from '@fulcrum/schemas';
import { z } from 'zod';
import { type Draft, type DesiredService, present } from '../state/desired-service.js';
import { mergePatch } from '../state/merge-patch.js';
import { ApiError, NotFoundError, ValidationError } from './errors.js';
import { ifMatch, ifNoneMatchAny, setEtag } from './http.js';

// CRUD for each kind of desired object, and real servers as a sub-resource of their virtual service.

export const COLLECTIONS: Record<string, { kind: DesiredKind; schema: z.ZodType; idParam: string }> = {
  'virtual-services': { kind: 'virtual-service', schema: virtualServiceObject, idParam: 'id' },
  'vrrp-instances': { kind: 'vrrp-instance', schema: vrrpInstanceObject, idParam: 'id' },
  hosts: { kind: 'host', schema: host, idParam: 'name' },
  'session-stores': { kind: 'session-store', schema: sessionStoreObject, idParam: 'id' },
  'replication-clusters': { kind: 'replication-cluster', schema: replicationClusterObject, idParam: 'id' },
};

const idParams = z.object({ id: z.string().max(200) });
const rsParams = z.object({ id: z.string().max(200), address: z.string().max(200), port: z.string().regex(/^\d{1,5}$/, { message: 'must be a port number' }) });
const listQuery = z.object({}).strict();

const author = (req: FastifyRequest): string => req.principal?.name ?? 'unknown';

/** A revision from If-Match, or undefined; `*` only asks that the object exists, which the route checks anyway. */
const revisionOf = (req: FastifyRequest): number | undefined => {
  const m = ifMatch(req);
  return m === '*' ? undefined : m;
};

export function registerResourceRoutes(app: FastifyInstance, desired: DesiredService): void {
  for (const [collection, { kind, schema }] of Object.entries(COLLECTIONS)) {
    const base = `/v1/${collection}`;
    const tags = [collection];
    const one = `${base}/:id`;

    app.get(base, { config: { role: 'reader' }, schema: { tags, summary: `list ${kind} objects`, querystring: listQuery } }, async (_req, reply) =>
      reply.type('application/json; charset=utf-8').send(desired.listJson(kind)),
    );

    app.get(one, { config: { role: 'reader' }, schema: { tags, summary: `read one ${kind}`, params: idParams } }, async (req, reply) => {
      const { id } = req.params as z.infer<typeof idParams>;
      const found = desired.get(kind, id);
      setEtag(reply, found.revision);
      return present(found);
    });

    app.post(base, { config: { role: 'admin' }, schema: { tags, summary: `create a ${kind}`, body: schema } }, async (req, reply) => {
      const result = await desired.write([{ op: 'create', kind, body: req.body }], { author: author(req) });
      return written(reply, result.changes[0]?.key, result, 201);
    });

    app.put(one, { config: { role: 'admin' }, schema: { tags, summary: `create or replace a ${kind}`, params: idParams, body: schema } }, async (req, reply) => {
      const { id } = req.params as z.infer<typeof idParams>;
      const draft: Draft = ifNoneMatchAny(req)
        ? { op: 'create', kind, body: withId(kind, id, req.body) }
        : { op: 'replace', kind, id, body: req.body, ...optional('ifMatch', revisionOf(req)) };
      if (ifMatch(req) === '*') desired.get(kind, id);
      const existed = isSlug(id) && desired.find(desiredKey(kind, id)) !== undefined;
      const result = await desired.write([draft], { author: author(req) });
      return written(reply, result.changes[0]?.key, result, existed ? 200 : 201);
    });

    app.patch(
      one,
      { config: { role: 'admin' }, schema: { tags, summary: `change some fields of a ${kind} (JSON merge patch, RFC 7386)`, params: idParams } },
      async (req, reply) => {
        const { id } = req.params as z.infer<typeof idParams>;
        const result = await desired.write([{ op: 'patch', kind, id, patch: req.body, ...optional('ifMatch', revisionOf(req)) }], { author: author(req) });
        return written(reply, result.changes[0]?.key, result, 200);
      },
    );

    app.delete(one, { config: { role: 'admin' }, schema: { tags, summary: `delete a ${kind}`, params: idParams } }, async (req, reply) => {
      const { id } = req.params as z.infer<typeof idParams>;
      await desired.write([{ op: 'delete', kind, id, ...optional('ifMatch', revisionOf(req)) }], { author: author(req) });
      return reply.code(204).send();
    });
  }

  registerRealServerRoutes(app, desired);

  function written(
    reply: FastifyReply,
    key: string | undefined,
    result: Awaited<ReturnType<DesiredService['write']>>,
    status: number,
  ) {
    const stored = key === undefined ? undefined : desired.find(key);
    if (!stored) throw new ApiError(500, 'INTERNAL', 'the object was written but cannot be read back');
    setEtag(reply, stored.revision);
    return reply
      .code(result.commit || status === 201 ? status : 200)
      .send({ ...present(stored), generation: desired.generation, ...(result.warnings.length ? { warnings: result.warnings } : {}) });
  }
}

const optional = <K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> => (v === undefined ? {} : ({ [k]: v } as Record<K, V>));

function withId(kind: DesiredKind, id: string, body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const field = kind === 'host' ? 'name' : 'id';
  const b = body as Record<string, unknown>;
  return b[field] === undefined ? { ...b, [field]: id } : b;
}

/** Real servers are edited through their virtual service: one revision (the service's) guards both. */
function registerRealServerRoutes(app: FastifyInstance, desired: DesiredService): void {
  const base = '/v1/virtual-services/:id/real-servers';
  const one = `${base}/:address/:port`;
  const tags = ['virtual-services'];

  const load = (req: FastifyRequest) => {
    const { id } = req.params as { id: string };
    const stored = desired.get('virtual-service', id);
    const m = ifMatch(req);
    return { id, stored, vs: stored.value as Extract<DesiredObject, { kind: 'virtual-service' }>, ifMatch: m === '*' || m === undefined ? stored.revision : m };
  };
  const find = (vs: Extract<DesiredObject, { kind: 'virtual-service' }>, address: string, port: string) => {
    const i = vs.realServers.findIndex((rs) => rs.address === address && rs.port === Number(port));
    if (i < 0) throw new NotFoundError(`virtual service "${vs.id}" has no real server ${address} port ${port}`);
    return i;
  };
  const parseRs = (body: unknown) => {
    const r = checkContract(realServer, body);
    if (!r.ok) throw new ValidationError(r.issues);
    return body as Record<string, unknown>;
  };
  const save = async (req: FastifyRequest, id: string, revision: number, realServers: unknown[]) => {
    const result = await desired.write(
      [{ op: 'patch', kind: 'virtual-service', id, patch: { realServers }, ifMatch: revision }],
      { author: req.principal?.name ?? 'unknown' },
    );
    return result;
  };
  const reply = (r: FastifyReply, id: string, status: number, rs?: { address: string; port: number }) => {
    const stored = desired.get('virtual-service', id);
    setEtag(r, stored.revision);
    const vs = redactSecrets(stored.value) as Extract<DesiredObject, { kind: 'virtual-service' }>;
    const body = rs ? vs.realServers.find((x) => x.address === rs.address && x.port === rs.port) : vs.realServers;
    return r.code(status).send({ virtualService: id, revision: stored.revision, realServer: body });
  };

  app.get(base, { config: { role: 'reader' }, schema: { tags, summary: 'list the real servers of a virtual service', params: idParams } }, async (req, r) => {
    const { id, stored, vs } = load(req);
    setEtag(r, stored.revision);
    return { virtualService: id, revision: stored.revision, items: redactSecrets(vs.realServers) };
  });
  app.get(one, { config: { role: 'reader' }, schema: { tags, summary: 'read one real server', params: rsParams } }, async (req, r) => {
    const { address, port } = req.params as z.infer<typeof rsParams>;
    const { id, vs } = load(req);
    find(vs, address, port);
    return reply(r, id, 200, vs.realServers[find(vs, address, port)]);
  });
  app.post(base, { config: { role: 'admin' }, schema: { tags, summary: 'add a real server', params: idParams, body: realServer } }, async (req, r) => {
    const { id, vs, ifMatch: rev } = load(req);
    const body = parseRs(req.body);
    const list = [...vs.realServers] as unknown[];
    list.push(body);
    await save(req, id, rev, list);
    return reply(r, id, 201, { address: String(body.address), port: Number(body.port) });
  });
  app.put(one, { config: { role: 'admin' }, schema: { tags, summary: 'replace a real server', params: rsParams, body: realServer } }, async (req, r) => {
    const { address, port } = req.params as z.infer<typeof rsParams>;
    const { id, vs, ifMatch: rev } = load(req);
    const i = find(vs, address, port);
    const body = parseRs(req.body);
    const list = [...vs.realServers] as unknown[];
    list[i] = body;
    await save(req, id, rev, list);
    return reply(r, id, 200, { address: String(body.address), port: Number(body.port) });
  });
  app.patch(one, { config: { role: 'admin' }, schema: { tags, summary: 'change some fields of a real server', params: rsParams } }, async (req, r) => {
    const { address, port } = req.params as z.infer<typeof rsParams>;
    const { id, vs, ifMatch: rev } = load(req);
    const i = find(vs, address, port);
    if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) throw new ValidationError([{ path: '', message: 'a merge patch must be a JSON object' }]);
    const merged = parseRs(mergePatch(vs.realServers[i], req.body));
    const list = [...vs.realServers] as unknown[];
    list[i] = merged;
    await save(req, id, rev, list);
    return reply(r, id, 200, { address: String(merged.address), port: Number(merged.port) });
  });
  app.delete(one, { config: { role: 'admin' }, schema: { tags, summary: 'remove a real server', params: rsParams } }, async (req, r) => {
    const { address, port } = req.params as z.infer<typeof rsParams>;
    const { id, vs, ifMatch: rev } = load(req);
    const i = find(vs, address, port);
    await save(req, id, rev, vs.realServers.filter((_, j) => j !== i));
    return r.code(204).send();
  });
}
