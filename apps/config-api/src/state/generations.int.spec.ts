import { type Bus, type GenerationBatch, type GenerationWatch, connectBus, followDesiredState, openStore } from '@fulcrum/bus';
import { type DesiredObject, desiredBucket, desiredObject, parseContract } from '@fulcrum/schemas';
import { type NatsServer, eventually, memoryLogger, startNats } from '@fulcrum/testing';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KvDesiredRepo } from './kv-repo.js';
import type { Change } from './repo.js';

// What agents see of config-api's commits: the real KV repo writes, an agent-side followDesiredState() reads. A
// transaction of 50 objects must reach the watcher as one batch, never a part of it, also across a NATS restart;
// a commit that fails half way is never seen at all.

const COUNT = 50;
const silent = pino({ level: 'silent' });

const service = (i: number, weight = 1): DesiredObject =>
  parseContract(desiredObject, {
    kind: 'virtual-service',
    id: `svc-${i}`,
    match: { kind: 'address', protocol: 'tcp', address: `10.1.${i}.1`, port: 80 },
    scheduler: 'wrr',
    forwarding: 'dr',
    realServers: [{ address: `10.2.${i}.1`, port: 80, weight }],
  });

let nats: NatsServer;
const buses: Bus[] = [];
const watches: GenerationWatch<DesiredObject>[] = [];
let repo: KvDesiredRepo | undefined;

const bus = async (name: string) => {
  const b = await connectBus({ servers: nats.url, name, logger: silent, timeoutMs: 3000, reconnectWaitMs: 100 });
  buses.push(b);
  return b;
};

/** Collects batches until `changes` changes of svc-* keys have come, with a deadline instead of a hang. */
async function batchesUntil(iter: AsyncIterator<GenerationBatch<DesiredObject>>, changes: number, timeoutMs = 30_000): Promise<GenerationBatch<DesiredObject>[]> {
  const out: GenerationBatch<DesiredObject>[] = [];
  let seen = 0;
  const deadline = Date.now() + timeoutMs;
  while (seen < changes) {
    const next = await Promise.race([iter.next(), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now())).unref())]);
    if (next === 'timeout') throw new Error(`saw ${seen} of ${changes} changes in ${out.length} batches`);
    if (next.done) throw new Error('the watch ended');
    out.push(next.value);
    seen += next.value.changes.length;
  }
  return out;
}

beforeEach(async () => {
  nats = await startNats();
});
afterEach(async () => {
  for (const w of watches.splice(0)) w.stop();
  await repo?.close();
  repo = undefined;
  for (const b of buses.splice(0)) await b.close().catch(() => undefined);
  await nats.dispose();
});

describe('agents follow config-api generation by generation', () => {
  it('sees a transaction of 50 objects as one batch: created, replaced, deleted, and again after a NATS restart', async () => {
    repo = await KvDesiredRepo.open(await bus('config-api'), silent);
    await repo.commit([{ op: 'put', key: 'vs.other', value: service(200) }], { author: 'spec' });
    const { logger, records } = memoryLogger();
    const watch = await followDesiredState(await bus('agent'), { keys: 'vs.>', logger });
    watches.push(watch);
    const iter = watch[Symbol.asyncIterator]();
    const snap = (await iter.next()).value as GenerationBatch<DesiredObject>;
    expect(snap).toMatchObject({ snapshot: true, release: 'generation', generation: 1 });
    expect([...snap.state.keys()]).toEqual(['vs.other']);

    const rounds: { what: string; changes: Change[] }[] = [
      { what: 'create', changes: Array.from({ length: COUNT }, (_, i) => ({ op: 'put', key: `vs.svc-${i}`, value: service(i) })) },
      { what: 'replace', changes: Array.from({ length: COUNT }, (_, i) => ({ op: 'put', key: `vs.svc-${i}`, value: service(i, 5) })) },
      // Ends with deletes: the generation must cover the delete markers too.
      { what: 'delete', changes: Array.from({ length: COUNT }, (_, i) => ({ op: 'delete', key: `vs.svc-${i}` })) },
    ];
    for (const [n, round] of rounds.entries()) {
      if (n === 2) {
        // The watcher's connection goes through a restart of the server between two transactions.
        await nats.restart();
        await eventually('both sides are connected again', () => buses.every((b) => b.state === 'connected'), 30_000);
      }
      const info = await repo.commit(round.changes, { author: 'spec' });
      const batches = await batchesUntil(iter, COUNT);
      expect(batches.map((b) => b.changes.length), round.what).toEqual([COUNT]);
      expect(batches[0]).toMatchObject({ release: 'generation', generation: info.generation, revision: info.revision });
      const svc = [...batches[0]!.state.keys()].filter((k) => k.startsWith('vs.svc-'));
      expect(svc.length, round.what).toBe(round.what === 'delete' ? 0 : COUNT);
    }
    expect(records.filter((r) => r.level >= 40).map((r) => r.msg)).not.toContain(expect.stringMatching(/no generation covers/));
  });

  it('never shows a watcher any part of a commit that failed half way against another writer', async () => {
    repo = await KvDesiredRepo.open(await bus('config-api'), silent);
    const first = await repo.commit([{ op: 'put', key: 'vs.b', value: service(1) }], { author: 'spec' });
    const watch = await followDesiredState(await bus('agent'), { keys: 'vs.>', logger: silent, holdMs: 2000 });
    watches.push(watch);
    const iter = watch[Symbol.asyncIterator]();
    await iter.next();
    // A hand edit of vs.b behind config-api's back, then a commit that expects vs.b's old revision. Whether
    // config-api has seen the edit (refused before writing) or not (vs.a written, then put back), it fails.
    const raw = await openStore(await bus('operator'), desiredBucket);
    await raw.put('vs.b', service(1, 7), { expectedRevision: first.revision });
    await expect(
      repo.commit(
        [
          { op: 'put', key: 'vs.a', value: service(0), expectedRevision: 0 },
          { op: 'put', key: 'vs.b', value: service(1, 9), expectedRevision: first.revision },
        ],
        { author: 'spec' },
      ),
    ).rejects.toThrow(/vs\.b/);
    const weights: number[] = [];
    for (;;) {
      const batch = (await batchesUntil(iter, 1))[0]!;
      expect(batch.state.has('vs.a'), `batch ${JSON.stringify(batch.changes.map((c) => c.key))}`).toBe(false);
      const b = batch.state.get('vs.b')?.value;
      if (b?.kind === 'virtual-service') weights.push(b.realServers[0]?.weight ?? 0);
      if (weights.at(-1) === 7) break;
    }
    expect(weights).not.toContain(9);
  });

  it('never hands a watcher that starts during a commit a part of it', async () => {
    repo = await KvDesiredRepo.open(await bus('config-api'), silent);
    const agent = await bus('agent');
    for (let round = 0; round < 3; round++) {
      const changes: Change[] = Array.from({ length: COUNT }, (_, i) => ({ op: 'put', key: `vs.svc-${i}`, value: service(i, round + 1) }));
      const committing = repo.commit(changes, { author: 'spec' });
      // Started while the commit's keys are being written (or just before, or just after: each is fine).
      const watch = await followDesiredState(agent, { keys: 'vs.>', logger: silent });
      watches.push(watch);
      const iter = watch[Symbol.asyncIterator]();
      const snap = (await iter.next()).value as GenerationBatch<DesiredObject>;
      const weights = [...snap.state.values()].map((e) => (e.value.kind === 'virtual-service' ? e.value.realServers[0]?.weight : -1));
      const thisRound = weights.filter((w) => w === round + 1).length;
      expect([0, COUNT], `round ${round}: the snapshot held ${thisRound} of the commit's ${COUNT} objects (${JSON.stringify({ ...snap, state: undefined, changes: snap.changes.map((c) => c.revision) })})`).toContain(thisRound);
      await committing;
      if (thisRound === 0) {
        const [batch, ...more] = await batchesUntil(iter, COUNT);
        expect(more).toEqual([]);
        expect(batch?.changes).toHaveLength(COUNT);
      }
      watch.stop();
    }
  });
});
