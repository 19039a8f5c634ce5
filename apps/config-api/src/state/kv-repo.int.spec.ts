import { type Bus, connectBus, openStore } from '@fulcrum/bus';
import { type DesiredObject, desiredBucket, desiredObject, parseContract } from '@fulcrum/schemas';
import { seed000 } from '@fulcrum/schemas/testing';
import { type NatsServer, startNats } from '@fulcrum/testing';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { FailureLimiter, TokenVerifier, hashToken } from '../auth/tokens.js';
import { GENERATION_KEY, type GenerationRecord, commitsBucket } from './commits.js';
import { DesiredService } from './desired-service.js';
import { KvDesiredRepo } from './kv-repo.js';

// The API over a real nats-server: optimistic concurrency, all-or-nothing transactions, restarts, the generation
// agents follow, and a commit interrupted half way.

const log = pino({ level: 'silent' });
const TOKEN = 'int-admin-token-0123456789';
const seed = (): DesiredObject[] => seed000.map((o, i) => parseContract(desiredObject, o, `seed000[${i}]`));

let nats: NatsServer;
const buses: Bus[] = [];
const closers: (() => Promise<unknown>)[] = [];

const bus = async () => {
  const b = await connectBus({ servers: nats.url, name: `spec-${buses.length}`, logger: log, timeoutMs: 3000 });
  buses.push(b);
  return b;
};

async function api(): Promise<{ app: FastifyInstance; repo: KvDesiredRepo }> {
  const repo = await KvDesiredRepo.open(await bus(), log);
  const app = await buildApp({
    desired: new DesiredService(repo),
    tokens: new TokenVerifier([{ name: 'admin', role: 'admin', hash: await hashToken(TOKEN, { N: 1024, r: 8, p: 1 }) }]),
    limiter: new FailureLimiter(),
    logger: log,
    docs: false,
  });
  closers.push(() => app.close(), () => repo.close());
  return { app, repo };
}

const send = (app: FastifyInstance, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });

beforeEach(async () => {
  nats = await startNats();
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  for (const b of buses.splice(0)) await b.close().catch(() => undefined);
  await nats.dispose();
});

describe('config-api on JetStream KV', () => {
  it('lets one of two writers with the same revision win; the other gets 409, through one API or two', async () => {
    const { app } = await api();
    const created = await send(app, 'POST', '/v1/transactions', { changes: seed().map((object) => ({ op: 'create', object })) });
    expect(created.statusCode).toBe(200);
    const etag = (await send(app, 'GET', '/v1/virtual-services/web')).headers.etag as string;
    const [a, b] = await Promise.all([
      send(app, 'PATCH', '/v1/virtual-services/web', { scheduler: 'rr' }, { 'if-match': etag }),
      send(app, 'PATCH', '/v1/virtual-services/web', { scheduler: 'lc' }, { 'if-match': etag }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);

    // A second config-api (a mistake, but it must not corrupt anything): the KV's own revision check decides.
    const other = await api();
    const etag2 = (await send(app, 'GET', '/v1/virtual-services/web')).headers.etag as string;
    const [c, d] = await Promise.all([
      send(app, 'PATCH', '/v1/virtual-services/web', { scheduler: 'sh' }, { 'if-match': etag2 }),
      send(other.app, 'PATCH', '/v1/virtual-services/web', { scheduler: 'dh' }, { 'if-match': etag2 }),
    ]);
    expect([c.statusCode, d.statusCode].sort()).toEqual([200, 409]);
  });

  it('leaves nothing behind when a transaction fails validation', async () => {
    const { app } = await api();
    await send(app, 'POST', '/v1/transactions', { changes: seed().map((object) => ({ op: 'create', object })) });
    const store = await openStore(await bus(), desiredBucket);
    const before = await store.readAll();
    const r = await send(app, 'POST', '/v1/transactions', {
      changes: [
        { op: 'create', object: { kind: 'host', name: 'web3', roles: ['realserver'] } },
        { op: 'patch', kind: 'virtual-service', id: 'web', patch: { scheduler: 'wrr', quorum: 0 } },
      ],
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors[0].path).toBe('changes[1].patch.quorum');
    const after = await store.readAll();
    expect(after.revision).toBe(before.revision);
    expect([...after.entries.keys()].sort()).toEqual([...before.entries.keys()].sort());
    const commits = await openStore(await bus(), commitsBucket);
    expect([...(await commits.readAll()).entries.keys()]).toEqual([GENERATION_KEY]);
  });

  it('loses nothing across a restart of the API: objects, revisions and the generation come back', async () => {
    const first = await api();
    await send(first.app, 'POST', '/v1/transactions', { changes: seed().map((object) => ({ op: 'create', object })) });
    await send(first.app, 'PATCH', '/v1/hosts/web1', { description: 'rack 3' });
    const listBefore = (await send(first.app, 'GET', '/v1/hosts')).json();
    for (const c of closers.splice(0).reverse()) await c();
    const second = await api();
    const listAfter = (await send(second.app, 'GET', '/v1/hosts')).json();
    expect(listAfter).toEqual(listBefore);
    expect(listAfter.generation).toBe(2);
    // The secret is still stored (only hidden on reads).
    const stored = second.repo.snapshot().objects.get('vrrp.vi-1')?.value;
    expect(stored?.kind === 'vrrp-instance' && stored.authentication?.password).toBe('1111');
  });

  it('publishes one generation per transaction, covering the revision of its last key', async () => {
    const { app } = await api();
    const commits = await openStore(await bus(), commitsBucket);
    const r = await send(app, 'POST', '/v1/transactions', { changes: seed().map((object) => ({ op: 'create', object })) });
    const gen = (await commits.get(GENERATION_KEY))?.value as GenerationRecord;
    const revisions = r.json().changes.map((c: { revision: number }) => c.revision);
    expect(gen).toMatchObject({ generation: 1, revision: Math.max(...revisions), author: 'admin' });
    expect(gen.keys).toHaveLength(seed().length);
  });

  it('finishes a commit that a crash interrupted (journal present) before serving', async () => {
    const b = await bus();
    const commits = await openStore(b, commitsBucket);
    const objects = seed();
    await commits.put('txn.crashed1', {
      kind: 'journal',
      txn: 'crashed1',
      author: 'admin',
      time: new Date().toISOString(),
      changes: objects.map((value) => ({ op: 'put', key: value.kind === 'host' ? `host.${value.name}` : value.kind === 'vrrp-instance' ? `vrrp.${value.id}` : `vs.${value.kind === 'virtual-service' ? value.id : ''}`, value })),
    });
    // Half of it had reached the desired bucket when the writer died.
    const desired = await openStore(b, desiredBucket);
    await desired.put('host.director1', objects[0]!);
    const { repo } = await api();
    expect([...repo.snapshot().objects.keys()].sort()).toEqual(['host.director1', 'host.director2', 'host.web1', 'host.web2', 'vrrp.vi-1', 'vs.web']);
    expect([...(await commits.readAll()).entries.keys()]).toEqual([GENERATION_KEY]);
    expect((await commits.get(GENERATION_KEY))?.value).toMatchObject({ generation: 1, txn: 'crashed1' });
  });
});
