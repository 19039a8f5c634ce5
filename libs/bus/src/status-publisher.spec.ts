import { makeEvent, type FulcrumEvent } from '@fulcrum/schemas';
import { memoryLogger } from '@fulcrum/testing';
import { describe, expect, it } from 'vitest';
import type { Bus } from './bus.js';
import { StatusPublisher } from './status-publisher.js';
import { MemoryStore } from './testing/memory-store.js';

const state = (instance: string, s: 'master' | 'backup') =>
  makeEvent('vrrp-state', { service: 'vrrp-agent', host: 'director1' }, { instance, state: s, previous: 'initialize', priority: 100, reason: 'test' });

/** The part of a Bus the publisher uses: its state and publish, recorded. */
function fakeBus(): { bus: Bus; sent: { subject: string; event: FulcrumEvent }[]; down(): void } {
  const sent: { subject: string; event: FulcrumEvent }[] = [];
  let connected = true;
  const bus = {
    get state() {
      return connected ? 'connected' : 'reconnecting';
    },
    publish: (subject: { name: string }, tokens: Record<string, string>, event: FulcrumEvent) => {
      sent.push({ subject: subject.name.replace('{host}', tokens.host ?? ''), event });
    },
  } as unknown as Bus;
  return { bus, sent, down: () => (connected = false) };
}

describe('StatusPublisher', () => {
  it('remembers before the bus, stores on attach, then publishes and stores each change', async () => {
    const store = new MemoryStore<FulcrumEvent>('status');
    const p = new StatusPublisher('vrrp-state', { host: 'director1', logger: memoryLogger().logger, withoutBucket: 'x', openStatus: async () => store });
    p.publish(state('vi-1', 'backup'));
    const { bus, sent } = fakeBus();
    await p.attach(bus);
    expect(sent).toEqual([]);
    expect((await store.get('vrrp-state.director1.vi-1'))?.value.data).toMatchObject({ state: 'backup' });
    p.publish(state('vi-1', 'master'));
    expect(sent.map((s) => s.subject)).toEqual(['fulcrum.evt.vrrp-state.director1']);
    await new Promise((r) => setImmediate(r));
    expect((await store.get('vrrp-state.director1.vi-1'))?.value.data).toMatchObject({ state: 'master' });
    p.close();
  });

  it('announces what it learnt while away when asked, and forgets a thing no longer observed', async () => {
    const store = new MemoryStore<FulcrumEvent>('status');
    const p = new StatusPublisher('vrrp-state', { host: 'director1', logger: memoryLogger().logger, withoutBucket: 'x', openStatus: async () => store });
    p.publish(state('vi-1', 'master'));
    p.publish(state('vi-2', 'backup'));
    const { bus, sent } = fakeBus();
    await p.attach(bus, { republish: true });
    expect(sent.map((s) => s.event.type === 'vrrp-state' && s.event.data.instance)).toEqual(['vi-1', 'vi-2']);
    await new Promise((r) => setImmediate(r));
    p.forget('vrrp-state.director1.vi-2');
    await new Promise((r) => setImmediate(r));
    expect(await store.get('vrrp-state.director1.vi-2')).toBeNull();
    expect(p.get('vrrp-state.director1.vi-1')?.data.state).toBe('master');
    p.close();
  });

  it('re-puts every entry before the bucket would expire it, and goes on without a bucket', async () => {
    const store = new MemoryStore<FulcrumEvent>('status');
    const p = new StatusPublisher('vrrp-state', { host: 'director1', logger: memoryLogger().logger, withoutBucket: 'x', refreshMs: 20, openStatus: async () => store });
    p.remember(state('vi-1', 'master'));
    await p.attach(fakeBus().bus);
    const first = (await store.get('vrrp-state.director1.vi-1'))?.revision ?? 0;
    await new Promise((r) => setTimeout(r, 100));
    expect((await store.get('vrrp-state.director1.vi-1'))?.revision).toBeGreaterThan(first);
    p.close();

    const { logger, records } = memoryLogger();
    const alone = new StatusPublisher('vrrp-state', { host: 'director1', logger, withoutBucket: 'state only as events', openStatus: async () => Promise.reject(new Error('no JetStream')) });
    const { bus, sent } = fakeBus();
    await alone.attach(bus);
    alone.publish(state('vi-1', 'master'));
    expect(sent).toHaveLength(1);
    expect(records.some((r) => r.msg === 'no status bucket: state only as events')).toBe(true);
    alone.close();
  });

  it('publishes nothing while the bus is away, and keeps the change for the status', async () => {
    const store = new MemoryStore<FulcrumEvent>('status');
    const p = new StatusPublisher('vrrp-state', { host: 'director1', logger: memoryLogger().logger, withoutBucket: 'x', openStatus: async () => store });
    const { bus, sent, down } = fakeBus();
    await p.attach(bus);
    down();
    p.publish(state('vi-1', 'master'));
    expect(sent).toEqual([]);
    expect(p.get('vrrp-state.director1.vi-1')?.data.state).toBe('master');
    p.close();
  });
});
