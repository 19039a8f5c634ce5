import { Writable } from 'node:stream';
import type { Bus, BusOptions } from '@fulcrum/bus';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { connectServiceBusInBackground } from './service-bus.js';
import type { BusService } from './service-bus.js';
import { natsConfig } from './service-config.js';

// The background connection with a stand-in for connectBus: the spec decides when (and whether) a
// server answers, and reads what the service logged.

interface FakeBus {
  readonly bus: Bus;
  readonly calls: string[];
}

function fakeBus(calls: string[]): FakeBus {
  const fake = {
    state: 'connected',
    drain: async () => void calls.push('drain'),
    close: async () => void calls.push('close'),
  };
  // Only what the background connection touches; the rest of Bus is not used here.
  return { bus: fake as unknown as Bus, calls };
}

function harness() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const svc: BusService = {
    name: 'health-checker',
    config: { host: 'director1', nats: natsConfig.parse({ servers: ['nats://127.0.0.1:4299'], user: 'hc', password: 'secret' }) },
    logger: createLogger({ name: 'health-checker', level: 'debug', destination }),
    registry: new Registry(),
  };
  const asked: BusOptions[] = [];
  let answer: (bus: Bus) => void = () => undefined;
  let refuse: (err: Error) => void = () => undefined;
  const connect = (o: BusOptions) => {
    asked.push(o);
    return new Promise<Bus>((resolve, reject) => {
      answer = resolve;
      refuse = reject;
    });
  };
  return { svc, lines, asked, connect, answer: (b: Bus) => answer(b), refuse: (e: Error) => refuse(e) };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('connectServiceBusInBackground', () => {
  it('returns at once; once a server answers the service gets the bus, named <service>@<host> and waiting for a server', async () => {
    const h = harness();
    const attached: Bus[] = [];
    const bg = connectServiceBusInBackground(h.svc, { attach: (b) => void attached.push(b), withoutBus: 'checking only', connect: h.connect });
    expect(bg.bus).toBeNull();
    expect(h.asked[0]).toMatchObject({
      servers: ['nats://127.0.0.1:4299'],
      name: 'health-checker@director1',
      auth: { user: 'hc', pass: 'secret' },
      waitForServer: true,
      timeoutMs: h.svc.config.nats.requestTimeoutMs,
    });
    await settle();
    expect(attached).toEqual([]);

    const { bus, calls } = fakeBus([]);
    h.answer(bus);
    await settle();
    expect(attached).toEqual([bus]);
    expect(bg.bus).toBe(bus);
    expect(h.lines.some((l) => l.level === 50)).toBe(false);

    await bg.close();
    expect(calls).toEqual(['drain']);
  });

  it('logs "no bus: <what the service does>" when the connection or the attach fails, and goes on', async () => {
    const h = harness();
    let attached = 0;
    connectServiceBusInBackground(h.svc, { attach: () => void (attached += 1), withoutBus: 'checking the configured virtual services only, reporting nowhere', connect: h.connect });
    h.refuse(new Error('authorization violation'));
    await settle();
    expect(attached).toBe(0);
    expect(h.lines.find((l) => l.level === 50)).toMatchObject({
      msg: 'no bus: checking the configured virtual services only, reporting nowhere',
      err: { message: 'authorization violation' },
    });

    const h2 = harness();
    connectServiceBusInBackground(h2.svc, {
      attach: async () => {
        throw new Error('status bucket refused');
      },
      withoutBus: 'running the configured instances only',
      connect: h2.connect,
    });
    h2.answer(fakeBus([]).bus);
    await settle();
    expect(h2.lines.find((l) => l.level === 50)).toMatchObject({ msg: 'no bus: running the configured instances only', err: { message: 'status bucket refused' } });
  });

  it('on close, detaches before the drain; a connection made after the stop is closed unused and is no error', async () => {
    const h = harness();
    const calls: string[] = [];
    const bg = connectServiceBusInBackground(h.svc, {
      attach: () => void calls.push('attach'),
      detach: () => void calls.push('detach'),
      withoutBus: 'watching the configured clusters only',
      connect: h.connect,
    });
    await bg.close();
    expect(calls).toEqual(['detach']);
    h.answer(fakeBus(calls).bus);
    await settle();
    expect(calls).toEqual(['detach', 'close']);
    expect(bg.bus).toBeNull();
    await bg.close();
    expect(calls).toEqual(['detach', 'close']);

    const h2 = harness();
    const order: string[] = [];
    const bg2 = connectServiceBusInBackground(h2.svc, { attach: () => undefined, detach: () => void order.push('detach'), withoutBus: 'x', connect: h2.connect });
    h2.answer(fakeBus(order).bus);
    await settle();
    await bg2.close();
    expect(order).toEqual(['detach', 'drain']);

    const h3 = harness();
    const bg3 = connectServiceBusInBackground(h3.svc, { attach: () => undefined, withoutBus: 'x', connect: h3.connect });
    await bg3.close();
    h3.refuse(new Error('connection closed'));
    await settle();
    expect(h3.lines.some((l) => l.level === 50)).toBe(false);
    expect(h3.lines.find((l) => l.msg === 'bus set-up ended by the stop')).toBeDefined();
  });
});
