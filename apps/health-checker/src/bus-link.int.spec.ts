import type { Socket } from 'node:net';
import { connectBus, openStore } from '@fulcrum/bus';
import type { Bus } from '@fulcrum/bus';
import { EVENT_SUBJECTS, desiredBucket, statusBucket, virtualService } from '@fulcrum/schemas';
import type { EventOf, VirtualService } from '@fulcrum/schemas';
import { type NatsServer, eventually, memoryLogger, startNats } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthLink } from './bus-link.js';
import { startRawServer } from './checks/testing/servers.js';
import { HealthEngine } from './engine/engine.js';
import { serverTargets } from './engine/targets.js';

let nats: NatsServer;
let bus: Bus;
let admin: Bus;
beforeAll(async () => {
  nats = await startNats({ jetstream: true });
  bus = await connectBus({ servers: nats.url, name: 'health-checker@director1' });
  admin = await connectBus({ servers: nats.url, name: 'spec' });
});
afterAll(async () => {
  await bus?.close();
  await admin?.close();
  await nats?.dispose();
});

const webService = (ports: number[]): VirtualService =>
  virtualService.parse({
    kind: 'virtual-service',
    id: 'web',
    match: { kind: 'address', protocol: 'tcp', address: '10.0.0.100', port: 80 },
    healthChecks: [{ type: 'tcp', interval: 0.2, connectTimeout: 1, retries: 0, warmup: 0 }],
    realServers: ports.map((port) => ({ address: '127.0.0.1', port })),
  });

describe('health-checker on the bus', () => {
  it('checks the desired state, publishes each transition and keeps the status bucket current', async () => {
    const acceptAndClose = (s: Socket): void => void s.destroy();
    const rs1 = await startRawServer(acceptAndClose);
    const rs2 = await startRawServer(acceptAndClose);
    const desired = await openStore(admin, desiredBucket);
    await desired.put('vs.web', webService([rs1.port, rs2.port]));

    const events: EventOf<'health'>[] = [];
    admin.subscribe(EVENT_SUBJECTS.health, { host: 'director1' }, (e) => void events.push(e));
    await admin.flush();

    const { logger } = memoryLogger();
    let link: HealthLink | null = null;
    const engine = new HealthEngine({ onReport: (r) => link?.report(r), onRemoved: (vs, rs) => link?.removed(vs, rs) });
    link = new HealthLink({
      host: 'director1',
      logger,
      configServices: [],
      followDesired: true,
      onServices: (services) => engine.setTargets(serverTargets(services).targets),
    });
    link.start();
    await link.attach(bus);
    try {
      await eventually('both real servers are reported up', () => events.length >= 2);
      expect(events.map((e) => [e.data.realServer.port, e.data.previous, e.data.state]).sort()).toEqual(
        [
          [rs1.port, 'unknown', 'up'],
          [rs2.port, 'unknown', 'up'],
        ].sort(),
      );
      expect(events[0]?.source).toEqual({ service: 'health-checker', host: 'director1' });

      const status = await openStore(admin, statusBucket);
      await eventually('the status bucket holds both', async () => (await status.readAll()).entries.size === 2);

      const stoppedAt = performance.now();
      await rs1.close();
      const down = await eventually('rs1 is reported down', () => events.find((e) => e.data.state === 'down'));
      // fall (1) x interval (0.2 s) plus scheduling slack on a loaded machine.
      expect(performance.now() - stoppedAt).toBeLessThan(1500);
      expect(down.data).toMatchObject({
        virtualService: 'web',
        realServer: { address: '127.0.0.1', port: rs1.port },
        previous: 'up',
        checks: [{ type: 'tcp', ok: false, message: `refused: connection refused by 127.0.0.1:${rs1.port}` }],
      });
      expect(down.data.reason).toContain('tcp check failed (refused)');
      const key = [...(await status.readAll()).entries.keys()].find((k) => k.endsWith(`.${rs1.port}`)) as string;
      await eventually('the status entry says down', async () => {
        const e = await status.get(key);
        return e?.value.type === 'health' && e.value.data.state === 'down';
      });

      // rs2 leaves the desired state: no more checks of it, and its status entry goes.
      await desired.put('vs.web', webService([rs1.port]));
      await eventually('rs2 status entry is deleted', async () => (await status.readAll()).entries.size === 1);
      await eventually('the engine checks one server', () => engine.size === 1);
    } finally {
      engine.stop();
      await link.close();
      await rs2.close();
    }
  });
});
