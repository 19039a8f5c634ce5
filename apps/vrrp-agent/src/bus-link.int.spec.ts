import { connectBus, openStore } from '@fulcrum/bus';
import type { Bus, Store } from '@fulcrum/bus';
import type { Service } from '@fulcrum/runtime';
import { EVENT_SUBJECTS, desiredBucket, desiredObject, makeEvent, okReply, setSyncDaemon, statusBucket, statusKey, vrrpFailover } from '@fulcrum/schemas';
import type { DesiredObject, EventOf, FulcrumEvent, SyncDaemonRequest } from '@fulcrum/schemas';
import { type NatsServer, eventually, startNats } from '@fulcrum/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusLink } from './bus-link.js';
import { configSchema } from './config.js';
import type { VrrpAgentConfig } from './config.js';
import { node, segment } from './testing/in-memory.js';
import type { Node } from './testing/in-memory.js';

// The agent's NATS side against a real nats-server on loopback: the instance comes from the
// desired-state KV store, its transitions go out as vrrp-state events and into the status bucket,
// the local ipvs-agent (played here) is asked for the IPVS sync daemon role, health events and the
// failover command move it. The VRRP side runs on an in-memory segment.

const HOST = 'd1';
let nats: NatsServer;
let bus: Bus;
let desired: Store<DesiredObject>;
let status: Store<FulcrumEvent>;
let link: BusLink;
let d1: Node;
const events: EventOf<'vrrp-state'>[] = [];
const syncRequests: SyncDaemonRequest[] = [];

const instance = {
  kind: 'vrrp-instance' as const,
  id: 'vi-1',
  version: 3 as const,
  interface: 'eth0',
  virtualRouterId: 9,
  priorities: { d1: 100, d2: 50 },
  advertInterval: 0.1,
  virtualAddresses: [{ address: '10.9.0.100' }],
  trackVirtualServices: [{ virtualService: 'web', weight: 0 }],
};
const states = () => events.map((e) => e.data.state);

beforeAll(async () => {
  nats = await startNats({ jetstream: true });
  const logger = pino({ level: 'silent' });
  bus = await connectBus({ servers: nats.url, name: 'spec', logger });
  desired = await openStore(bus, desiredBucket);
  status = await openStore(bus, statusBucket);
  bus.subscribe(EVENT_SUBJECTS['vrrp-state'], { host: HOST }, (e) => void events.push(e));
  bus.serve(setSyncDaemon, { host: HOST }, (req) => {
    syncRequests.push(req);
    return okReply(`sync daemon ${req.role}`);
  });
  await bus.flush();
  await desired.put('vrrp.vi-1', desiredObject.parse(instance));
  d1 = await node(segment(), HOST, '10.9.0.11');
  const config: VrrpAgentConfig = configSchema.parse({ host: HOST, nats: { servers: [nats.url] }, ipvsSync: { instance: 'vi-1', syncId: 7 } });
  const svc = { config, logger, registry: d1.registry } as unknown as Service<VrrpAgentConfig>;
  link = new BusLink(svc, d1.agent);
  // What main.ts wires: every transition goes to the link.
  const onState = d1.events.push.bind(d1.events);
  d1.events.push = (...items) => {
    for (const i of items) link.onState(i);
    return onState(...items);
  };
  link.start();
});

afterAll(async () => {
  await d1?.agent.stop('spec');
  await link?.close();
  await bus?.close();
  await nats?.dispose();
});

describe('vrrp-agent on the bus', () => {
  it('runs the instance the desired state gives this host, and publishes its transitions, status and sync role', async () => {
    await eventually('master', () => d1.agent.status()[0]?.state === 'master', 10_000);
    await eventually('events', () => states().includes('master'));
    expect(states().slice(0, 2)).toEqual(['backup', 'master']);
    expect(events[1]?.data).toMatchObject({ instance: 'vi-1', previous: 'backup', priority: 100, reason: expect.stringMatching(/no master heard/) });
    expect(events[1]?.source).toEqual({ service: 'vrrp-agent', host: HOST });
    await eventually('sync master', () => syncRequests.some((r) => r.role === 'master'));
    expect(syncRequests.at(-1)).toMatchObject({ role: 'master', interface: 'eth0', syncId: 7 });
    const entry = await eventually('status entry', () => status.get(statusKey('vrrp-state', HOST, 'vi-1')).then((e) => e ?? undefined));
    expect(entry.value).toMatchObject({ type: 'vrrp-state', data: { instance: 'vi-1', state: 'master' } });
  });

  it('hands over on the vrrp-failover command and refuses an unknown instance', async () => {
    const before = events.length;
    expect(await bus.request(vrrpFailover, { host: HOST }, { instance: 'nope' })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await bus.request(vrrpFailover, { host: HOST }, { instance: 'vi-1', reason: 'maintenance' })).toMatchObject({ ok: true });
    await eventually('back to master (alone on the segment)', () => states().slice(before).includes('master'), 10_000);
    expect(events.slice(before).map((e) => e.data.state)).toEqual(['initialize', 'backup', 'master']);
    expect(events[before]?.data.reason).toMatch(/failover requested: maintenance/);
    expect(syncRequests.map((r) => r.role)).toContain('backup');
  });

  it('goes to fault when the health-checker reports the tracked virtual service down, and back when it recovers', async () => {
    const health = (state: 'up' | 'down') =>
      makeEvent('health', { service: 'health-checker', host: HOST }, {
        virtualService: 'web',
        realServer: { address: '10.1.0.1', port: 80 },
        state,
        previous: state === 'up' ? 'down' : 'up',
        checks: [],
        reason: 'spec',
      });
    bus.publish(EVENT_SUBJECTS.health, { host: HOST }, health('down'));
    await eventually('fault', () => d1.agent.status()[0]?.state === 'fault', 5000);
    await eventually('fault event', () => events.at(-1)?.data.state === 'fault');
    expect(events.at(-1)?.data.reason).toMatch(/virtual service web is down/);
    bus.publish(EVENT_SUBJECTS.health, { host: HOST }, health('up'));
    await eventually('master again', () => d1.agent.status()[0]?.state === 'master', 10_000);
  });

  it('stops the instance when the desired state no longer has it', async () => {
    await desired.delete('vrrp.vi-1');
    await eventually('stopped event', () => events.at(-1)?.data.state === 'stopped', 10_000);
    expect(events.at(-1)?.data).toMatchObject({ previous: 'master', priority: 0 });
    expect(d1.agent.status()).toEqual([]);
  });
});
