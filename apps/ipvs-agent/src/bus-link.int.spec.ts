import { connectBus, openStore } from '@fulcrum/bus';
import type { Bus } from '@fulcrum/bus';
import { dumpToTable } from '@fulcrum/netlink';
import { InMemoryIpvs } from '@fulcrum/netlink/testing';
import { EVENT_SUBJECTS, desiredBucket, drainRealServer, enableRealServer, makeEvent, replicationCluster, setSyncDaemon, statusBucket, virtualService } from '@fulcrum/schemas';
import type { EventOf, VirtualService } from '@fulcrum/schemas';
import { type NatsServer, eventually, memoryLogger, startNats } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appliedPublisher, attachDirector } from './bus-link.js';
import { Reconciler } from './director/reconciler.js';

let nats: NatsServer;
let bus: Bus;
let admin: Bus;
beforeAll(async () => {
  nats = await startNats({ jetstream: true });
  bus = await connectBus({ servers: nats.url, name: 'ipvs-agent@director1' });
  admin = await connectBus({ servers: nats.url, name: 'spec' });
});
afterAll(async () => {
  await bus?.close();
  await admin?.close();
  await nats?.dispose();
});

const web = (w1: number): VirtualService =>
  virtualService.parse({
    kind: 'virtual-service',
    id: 'web',
    match: { kind: 'address', protocol: 'tcp', address: '10.0.0.100', port: 80 },
    scheduler: 'wrr',
    forwarding: 'dr',
    realServers: [
      { address: '10.0.1.1', port: 80, weight: w1 },
      { address: '10.0.1.2', port: 80, weight: 1 },
    ],
  });

const weights = async (k: InMemoryIpvs) => Object.fromEntries(dumpToTable(await k.dump()).services.flatMap((s) => s.destinations.map((d) => [d.address, d.weight])));

describe('ipvs-agent director on the bus', () => {
  it('follows the desired state, drains by command, acts on health events, serves the sync role and publishes ipvs-applied', async () => {
    const desired = await openStore(admin, desiredBucket);
    await desired.put('vs.web', web(3));
    const applied: EventOf<'ipvs-applied'>[] = [];
    admin.subscribe(EVENT_SUBJECTS['ipvs-applied'], { host: 'director1' }, (e) => void applied.push(e));
    await admin.flush();

    const kernel = new InMemoryIpvs();
    const { logger } = memoryLogger();
    const publisher = appliedPublisher(bus, 'director1', logger);
    const reconciler = new Reconciler({ ipvs: kernel, logger, driftCheckMs: 0, coalesceMs: 5, onApplied: publisher });
    await reconciler.start();
    const link = await attachDirector({ bus, host: 'director1', logger, reconciler, ipvs: kernel });
    try {
      expect(await weights(kernel)).toEqual({ '10.0.1.1': 3, '10.0.1.2': 1 });
      const rev = await desired.put('vs.web', web(5));
      await eventually('the weight change reaches the kernel', async () => ((await weights(kernel))['10.0.1.1'] === 5 ? true : undefined), 10_000);
      await eventually('two ipvs-applied events', async () => (applied.length >= 2 ? true : undefined), 5_000);
      expect(applied[1]?.data).toMatchObject({ desiredRevision: rev, changes: { added: 0, updated: 1, removed: 0 }, failures: [] });
      // The last pass is in the status bucket too: config-api's /v1/status shows it as the kernel's view.
      const status = await openStore(admin, statusBucket);
      await eventually('the last pass in the status bucket', async () => {
        const e = (await status.get('ipvs-applied.director1'))?.value;
        return e?.type === 'ipvs-applied' && e.data.desiredRevision === rev ? e : undefined;
      }, 5_000);

      const ref = { virtualService: 'web', address: '10.0.1.2', port: 80, reason: 'kernel update' };
      expect(await admin.request(drainRealServer, { host: 'director1' }, ref)).toMatchObject({ ok: true });
      expect((await weights(kernel))['10.0.1.2']).toBe(0);
      expect(await admin.request(enableRealServer, { host: 'director1' }, ref)).toMatchObject({ ok: true });
      expect((await weights(kernel))['10.0.1.2']).toBe(1);
      expect(await admin.request(drainRealServer, { host: 'director1' }, { ...ref, address: '10.0.1.9' })).toMatchObject({ ok: false, code: 'NOT_FOUND' });

      const health = makeEvent('health', { service: 'health-checker', host: 'director1' }, {
        virtualService: 'web',
        realServer: { address: '10.0.1.1', port: 80 },
        state: 'down',
        previous: 'up',
        checks: [{ type: 'tcp', ok: false }],
        reason: 'connection refused',
      });
      admin.publish(EVENT_SUBJECTS.health, { host: 'director1' }, health);
      await eventually('the down server leaves the table', async () => (!('10.0.1.1' in (await weights(kernel))) ? true : undefined), 10_000);

      expect(await admin.request(setSyncDaemon, { host: 'director1' }, { role: 'master', interface: 'eth0', syncId: 3 })).toMatchObject({ ok: true });
      expect(await kernel.listDaemons()).toEqual([expect.objectContaining({ state: 'master', interface: 'eth0', syncId: 3 })]);
    } finally {
      link.close();
      await reconciler.stop();
      publisher.close();
    }
  });

  it('NATS away: the table stays as it is; changes flow again once NATS is back', async () => {
    const desired = await openStore(admin, desiredBucket);
    await desired.put('vs.web', web(3));
    const kernel = new InMemoryIpvs();
    const { logger } = memoryLogger();
    const reconciler = new Reconciler({ ipvs: kernel, logger, driftCheckMs: 0, coalesceMs: 5 });
    await reconciler.start();
    const link = await attachDirector({ bus, host: 'director1', logger, reconciler, ipvs: kernel });
    try {
      const writes = kernel.writeCount;
      await nats.stop();
      await new Promise((r) => setTimeout(r, 500));
      expect(kernel.writeCount).toBe(writes);
      await nats.start();
      await eventually('the agent is back', async () => (bus.state === 'connected' && admin.state === 'connected' ? true : undefined), 20_000);
      await desired.put('vs.web', web(7));
      await eventually('the change arrives', async () => ((await weights(kernel))['10.0.1.1'] === 7 ? true : undefined), 20_000);
    } finally {
      link.close();
      await reconciler.stop();
    }
  });

  it('a replica the replication-monitor reports lagging gets weight 0 in its read pool, and back when it catches up', async () => {
    const desired = await openStore(admin, desiredBucket);
    const pool = virtualService.parse({
      kind: 'virtual-service',
      id: 'db-read',
      match: { kind: 'address', protocol: 'tcp', address: '10.0.0.200', port: 3306 },
      realServers: [
        { address: '10.0.2.2', port: 3306, weight: 2 },
        { address: '10.0.2.3', port: 3306, weight: 2 },
      ],
    });
    await desired.put('vs.db-read', pool);
    await desired.put(
      'replication.db',
      replicationCluster.parse({
        kind: 'replication-cluster',
        id: 'db',
        engine: 'redis',
        nodes: [
          { name: 'db1', address: '10.0.2.1', port: 3306, role: 'primary' },
          { name: 'db2', address: '10.0.2.2', port: 3306, role: 'replica' },
          { name: 'db3', address: '10.0.2.3', port: 3306, role: 'replica' },
        ],
        readPool: { virtualService: 'db-read' },
        monitorHosts: ['data1'],
      }),
    );
    const kernel = new InMemoryIpvs();
    const { logger } = memoryLogger();
    const reconciler = new Reconciler({ ipvs: kernel, logger, driftCheckMs: 0, coalesceMs: 5 });
    await reconciler.start();
    const link = await attachDirector({ bus, host: 'director1', logger, reconciler, ipvs: kernel });
    const report = (state: 'ok' | 'lagging') =>
      admin.publish(
        EVENT_SUBJECTS.replication,
        { host: 'data1' },
        makeEvent('replication', { service: 'replication-monitor', host: 'data1' }, { cluster: 'db', node: 'db3', role: 'replica', state, lagSeconds: state === 'ok' ? 0 : 120, ioRunning: true, sqlRunning: true }),
      );
    try {
      expect((await weights(kernel))['10.0.2.3']).toBe(2);
      report('lagging');
      await eventually('the lagging replica is at weight 0', async () => ((await weights(kernel))['10.0.2.3'] === 0 ? true : undefined), 10_000);
      expect((await weights(kernel))['10.0.2.2']).toBe(2);
      report('ok');
      await eventually('back to its weight', async () => ((await weights(kernel))['10.0.2.3'] === 2 ? true : undefined), 10_000);
    } finally {
      link.close();
      await reconciler.stop();
    }
  });
});
