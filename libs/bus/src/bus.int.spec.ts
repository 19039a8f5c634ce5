import { defineRequest, defineSubject } from '@fulcrum/schemas';
import { eventually, memoryLogger, startNats, type NatsServer } from '@fulcrum/testing';
import { createUser } from '@nats-io/nkeys';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Registry, type Counter } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connectBus, type Bus, type BusStateEvent } from './bus.js';
import {
  BusAuthenticationError,
  BusUnavailableError,
  InvalidMessageError,
  RemoteError,
  RequestTimeoutError,
} from './errors.js';

// Small contract of our own: the real ones live in @fulcrum/schemas.
const healthEvent = defineSubject(
  'test.evt.health.{host}',
  z.object({ server: z.string(), up: z.boolean(), weight: z.number().int().min(0).max(65535) }),
);
const setWeight = defineRequest(
  'test.cmd.weight.{host}',
  z.object({ server: z.string(), weight: z.number().int().min(0) }),
  z.object({ applied: z.boolean(), previous: z.number().int() }),
);

const USER = { user: 'agent', password: 'agent-secret' };
const nkeyUser = createUser();

async function counterValue(registry: Registry, name: string, subject: string): Promise<number> {
  const metric = registry.getSingleMetric(name) as Counter<'subject'> | undefined;
  const values = (await metric?.get())?.values ?? [];
  return values.find((v) => v.labels.subject === subject)?.value ?? 0;
}

describe('bus over a real, authenticated nats-server', () => {
  let nats: NatsServer;
  let raw: NatsConnection; // an untyped client, to send what a typed bus would refuse
  const buses: Bus[] = [];
  const open = async (name: string, extra: Partial<Parameters<typeof connectBus>[0]> = {}) => {
    const bus = await connectBus({
      servers: nats.url,
      name,
      auth: { user: USER.user, pass: USER.password },
      reconnectWaitMs: 100,
      timeoutMs: 1000,
      ...extra,
    });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    nats = await startNats({ auth: { users: [USER], nkeys: [nkeyUser.getPublicKey()] } });
    raw = await connect({ servers: nats.url, user: USER.user, pass: USER.password });
  });
  // A test that fails while the server is down must not take the next tests with it.
  afterEach(async () => {
    if (!nats.isRunning()) await nats.start();
  });
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await raw?.close();
    await nats?.dispose();
  });

  describe('authentication', () => {
    it('refuses a wrong password with a typed error naming the user', async () => {
      const err = await connectBus({ servers: nats.url, name: 't', auth: { user: 'agent', pass: 'nope' } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BusAuthenticationError);
      expect(String(err)).toMatch(/refused user agent/);
    });

    it('refuses to connect without credentials', async () => {
      await expect(connectBus({ servers: nats.url, name: 't' })).rejects.toBeInstanceOf(BusAuthenticationError);
    });

    it('accepts an nkey', async () => {
      const bus = await open('nkey', { auth: { nkeySeed: new TextDecoder().decode(nkeyUser.getSeed()) } });
      expect(bus.state).toBe('connected');
    });

    it('authenticates with a token, and refuses a wrong one', async () => {
      const tokenServer = await startNats({ jetstream: false, auth: { token: 'right-token' } });
      try {
        await expect(connectBus({ servers: tokenServer.url, name: 't', auth: { token: 'wrong' } })).rejects.toBeInstanceOf(
          BusAuthenticationError,
        );
        const bus = await connectBus({ servers: tokenServer.url, name: 't', auth: { token: 'right-token' } });
        expect(bus.state).toBe('connected');
        await bus.close();
      } finally {
        await tokenServer.dispose();
      }
    });

    it('waits for a server that is not up yet when asked to', async () => {
      const later = await startNats({ jetstream: false });
      await later.stop();
      const connecting = connectBus({ servers: later.url, name: 'patient', waitForServer: true, reconnectWaitMs: 100 });
      await new Promise((r) => setTimeout(r, 300));
      await later.start();
      const bus = await connecting;
      expect(bus.state).toBe('connected');
      await bus.close();
      await later.dispose();
    });

    it('says which credentials file it could not read', async () => {
      await expect(connectBus({ servers: nats.url, name: 't', auth: { credsFile: '/nonexistent/agent.creds' } })).rejects.toThrow(
        /cannot read the NATS credentials file \/nonexistent\/agent\.creds: ENOENT/,
      );
    });

    it('fails fast with BusUnavailableError when nothing listens', async () => {
      const started = Date.now();
      await expect(connectBus({ servers: 'nats://127.0.0.1:1', name: 't' })).rejects.toBeInstanceOf(BusUnavailableError);
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  describe('publish and subscribe', () => {
    it('delivers validated messages with their tokens; missing tokens match any host', async () => {
      const bus = await open('pubsub');
      const got: Array<{ server: string; host: string | undefined }> = [];
      const d1: string[] = [];
      bus.subscribe(healthEvent, {}, (data, meta) => void got.push({ server: data.server, host: meta.tokens.host }));
      bus.subscribe(healthEvent, { host: 'd1' }, (data) => void d1.push(data.server));
      await bus.flush();
      bus.publish(healthEvent, { host: 'd1' }, { server: 'r1', up: true, weight: 1 });
      bus.publish(healthEvent, { host: 'd2' }, { server: 'r2', up: false, weight: 0 });
      await eventually('both arrived', () => got.length === 2);
      expect(got).toEqual([
        { server: 'r1', host: 'd1' },
        { server: 'r2', host: 'd2' },
      ]);
      expect(d1).toEqual(['r1']);
    });

    it('refuses to publish an invalid message, naming the field', () => {
      const bus = buses[buses.length - 1] as Bus;
      expect(() => bus.publish(healthEvent, { host: 'd1' }, { server: 'r1', up: true, weight: -1 })).toThrow(InvalidMessageError);
      expect(() => bus.publish(healthEvent, { host: 'd1' }, { server: 'r1', up: true, weight: -1 })).toThrow(
        /invalid message on test\.evt\.health\.d1: weight: Too small/,
      );
    });

    it('drops, logs and counts an invalid message on a typed subject, and goes on with the next', async () => {
      const { logger, records } = memoryLogger();
      const registry = new Registry();
      const bus = await open('invalid', { logger, registry });
      const got: string[] = [];
      bus.subscribe(healthEvent, { host: 'd3' }, (data) => void got.push(data.server));
      await bus.flush();
      raw.publish('test.evt.health.d3', JSON.stringify({ server: 'bad', up: 'yes', weight: 1 }));
      raw.publish('test.evt.health.d3', 'not json at all');
      raw.publish('test.evt.health.d3', JSON.stringify({ server: 'good', up: true, weight: 2 }));
      await eventually('the valid one arrived', () => got.length === 1);
      expect(got).toEqual(['good']);
      expect(await counterValue(registry, 'fulcrum_bus_invalid_messages_total', 'test.evt.health.{host}')).toBe(2);
      const warning = records.find((r) => r.subject === 'test.evt.health.d3' && Array.isArray(r.issues));
      expect(warning?.msg).toMatch(/up: Invalid input: expected boolean/);
      expect(warning?.issues).toEqual([expect.objectContaining({ path: ['up'] })]);
    });

    it('survives a handler that throws: logs, counts, and handles the next message', async () => {
      const { logger, records } = memoryLogger();
      const registry = new Registry();
      const bus = await open('throws', { logger, registry });
      const got: string[] = [];
      bus.subscribe(healthEvent, { host: 'd4' }, (data) => {
        if (data.server === 'boom') throw new Error('handler bug');
        got.push(data.server);
      });
      await bus.flush();
      bus.publish(healthEvent, { host: 'd4' }, { server: 'boom', up: true, weight: 1 });
      bus.publish(healthEvent, { host: 'd4' }, { server: 'after', up: true, weight: 1 });
      await eventually('the next message was handled', () => got.length === 1);
      expect(await counterValue(registry, 'fulcrum_bus_handler_errors_total', 'test.evt.health.{host}')).toBe(1);
      expect(records.some((r) => r.msg === 'message handler failed' && (r.err as { message?: string })?.message === 'handler bug')).toBe(true);
    });
  });

  describe('queues and shutdown', () => {
    it('shares a queue group: each message goes to one member', async () => {
      const [one, two, sender] = [await open('q1'), await open('q2'), await open('q-sender')];
      const got: string[] = [];
      one.subscribe(healthEvent, { host: 'q' }, (d) => void got.push(`one:${d.server}`), { queue: 'workers' });
      two.subscribe(healthEvent, { host: 'q' }, (d) => void got.push(`two:${d.server}`), { queue: 'workers' });
      await Promise.all([one.flush(), two.flush()]);
      for (let i = 0; i < 20; i++) sender.publish(healthEvent, { host: 'q' }, { server: `r${i}`, up: true, weight: 1 });
      await eventually('all arrived', () => got.length >= 20);
      await sender.flush();
      expect(got.map((g) => g.split(':')[1]).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`).sort());
    });

    it('drain lets the handlers finish what was received before closing', async () => {
      const bus = await open('draining');
      const sender = await open('drain-sender');
      const done: string[] = [];
      bus.subscribe(healthEvent, { host: 'dr' }, async (d) => {
        await new Promise((r) => setTimeout(r, 50));
        done.push(d.server);
      });
      await bus.flush();
      for (const s of ['a', 'b', 'c']) sender.publish(healthEvent, { host: 'dr' }, { server: s, up: true, weight: 1 });
      await sender.flush();
      await new Promise((r) => setTimeout(r, 20)); // the first is being handled
      await bus.drain();
      expect(done).toEqual(['a', 'b', 'c']);
      expect(bus.state).toBe('closed');
    });
  });

  describe('request and serve', () => {
    it('answers a valid request with a validated reply', async () => {
      const server = await open('serve-ok');
      const client = await open('client-ok');
      server.serve(setWeight, { host: 'd1' }, (req, meta) => ({ applied: meta.tokens.host === 'd1', previous: req.weight - 1 }));
      await server.flush();
      expect(await client.request(setWeight, { host: 'd1' }, { server: 'r1', weight: 5 })).toEqual({ applied: true, previous: 4 });
    });

    it('turns invalid requests, failing handlers and invalid replies into typed errors', async () => {
      const registry = new Registry();
      const server = await open('serve-bad', { registry });
      const client = await open('client-bad');
      server.serve(setWeight, { host: 'd2' }, (req) => {
        if (req.server === 'crash') throw new RangeError('no such server');
        return { applied: true, previous: req.server === 'liar' ? 1.5 : 0 };
      });
      await server.flush();

      const invalid = await raw.request('test.cmd.weight.d2', JSON.stringify({ server: 'r1', weight: 'x' }));
      expect(invalid.headers?.get('Fulcrum-Error')).toBe('invalid-request');
      expect(invalid.json<{ message: string }>().message).toMatch(/weight: Invalid input: expected number/);

      const crash = await client.request(setWeight, { host: 'd2' }, { server: 'crash', weight: 1 }).catch((e: unknown) => e);
      expect(crash).toBeInstanceOf(RemoteError);
      expect(crash).toMatchObject({ code: 'handler-failed', message: 'test.cmd.weight.d2: handler-failed: RangeError: no such server' });

      const liar = await client.request(setWeight, { host: 'd2' }, { server: 'liar', weight: 1 }).catch((e: unknown) => e);
      expect(liar).toMatchObject({ name: 'RemoteError', code: 'invalid-reply' });
      expect(String(liar)).toMatch(/previous: Invalid input: expected int/);

      expect(await counterValue(registry, 'fulcrum_bus_invalid_messages_total', 'test.cmd.weight.{host}')).toBe(2);
      expect(await counterValue(registry, 'fulcrum_bus_handler_errors_total', 'test.cmd.weight.{host}')).toBe(1);
    });

    it('refuses a reply that breaks the reply schema on the requesting side too', async () => {
      const client = await open('client-strict');
      const sub = raw.subscribe('test.cmd.weight.d5', {
        callback: (_e, m) => {
          m.respond(JSON.stringify({ applied: 'yes' }));
        },
      });
      await raw.flush();
      await expect(client.request(setWeight, { host: 'd5' }, { server: 'r1', weight: 1 })).rejects.toThrow(
        /invalid message on test\.cmd\.weight\.d5: applied: Invalid input: expected boolean/,
      );
      sub.unsubscribe();
    });

    it('times out with RequestTimeoutError, and says when no service listens', async () => {
      const server = await open('serve-slow');
      const client = await open('client-slow');
      server.serve(setWeight, { host: 'd3' }, async () => {
        await new Promise((r) => setTimeout(r, 500));
        return { applied: true, previous: 0 };
      });
      await server.flush();
      const slow = await client.request(setWeight, { host: 'd3' }, { server: 'r1', weight: 1 }, { timeoutMs: 100 }).catch((e: unknown) => e);
      expect(slow).toBeInstanceOf(RequestTimeoutError);
      expect(String(slow)).toMatch(/no reply on test\.cmd\.weight\.d3 within 100 ms/);
      const nobody = await client.request(setWeight, { host: 'nobody' }, { server: 'r1', weight: 1 }).catch((e: unknown) => e);
      expect(nobody).toBeInstanceOf(BusUnavailableError);
      expect(String(nobody)).toMatch(/no service answers/);
    });
  });

  describe('when the server goes away and comes back', () => {
    it('reports the state changes, fails fast meanwhile, and resumes subscriptions', async () => {
      const bus = await open('outage');
      const events: BusStateEvent[] = [];
      bus.onStateChange((e) => events.push(e));
      const got: string[] = [];
      bus.subscribe(healthEvent, { host: 'o1' }, (data) => void got.push(data.server));
      bus.serve(setWeight, { host: 'o1' }, () => ({ applied: true, previous: 0 }));
      await bus.flush();

      await nats.stop();
      await eventually('the bus noticed', () => bus.state === 'disconnected');
      expect(events.map((e) => e.state)).toEqual(['disconnected']);

      expect(() => bus.publish(healthEvent, { host: 'o1' }, { server: 'lost', up: true, weight: 1 })).toThrow(BusUnavailableError);
      const started = Date.now();
      const err = await bus.request(setWeight, { host: 'o1' }, { server: 'r1', weight: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BusUnavailableError);
      expect(String(err)).toMatch(/not connected to NATS \(disconnected since /);
      expect(Date.now() - started).toBeLessThan(500); // well under timeoutMs (1 s): no waiting at all

      await nats.start();
      await bus.connected();
      expect(events.map((e) => e.state)).toEqual(['disconnected', 'connected']);
      await bus.flush();
      bus.publish(healthEvent, { host: 'o1' }, { server: 'after', up: true, weight: 1 });
      await eventually('the subscription got the message sent after the restart', () => got.includes('after'));
      expect(await bus.request(setWeight, { host: 'o1' }, { server: 'r1', weight: 1 })).toEqual({ applied: true, previous: 0 });
    });

    it('is closed for good after close(): operations say so', async () => {
      const bus = await open('closing');
      await bus.close();
      expect(bus.state).toBe('closed');
      expect(() => bus.publish(healthEvent, { host: 'c' }, { server: 'x', up: true, weight: 1 })).toThrow(/the bus is closed/);
      await expect(bus.connected()).rejects.toBeInstanceOf(BusUnavailableError);
    });
  });
});
