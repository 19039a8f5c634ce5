import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { ServiceError } from './errors.js';
import { createLogger } from './logger.js';
import { type StatusServer, createStatusServer } from './status-server.js';

const logger = createLogger({ name: 'test', level: 'silent' });
const servers: StatusServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(checkTimeoutMs = 2_000) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const server = createStatusServer({ registry, logger, port: 0, checkTimeoutMs });
  servers.push(server);
  const bound = await server.listen();
  return { server, registry, ...bound };
}

describe('status server', () => {
  it('listens on loopback by default and answers /healthz', async () => {
    const { url, address } = await start();
    expect(address).toBe('127.0.0.1');
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 only when every check passes, else 503 naming the failing ones', async () => {
    const { server, url } = await start(200);
    let busUp = false;
    server.addReadinessCheck('bus', () => busUp);
    server.addReadinessCheck('kernel', async () => true);
    server.addReadinessCheck('broken', () => {
      throw new Error('boom');
    });
    server.addReadinessCheck('slow', () => new Promise<boolean>(() => undefined)); // never answers

    let res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, failing: ['bus', 'broken', 'slow'] });

    const fresh = await start();
    busUp = true;
    fresh.server.addReadinessCheck('bus', () => busUp);
    fresh.server.addReadinessCheck('kernel', async () => true);
    res = await fetch(`${fresh.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, failing: [] });
  });

  it('/metrics serves the registry in the Prometheus text format', async () => {
    const { registry, url } = await start();
    new Counter({ name: 'fulcrum_test_events_total', help: 'events', registers: [registry] }).inc(3);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    const text = await res.text();
    expect(text).toContain('fulcrum_test_events_total 3');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('refuses other paths and methods', async () => {
    const { url } = await start();
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    const post = await fetch(`${url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('says which address and port it could not listen on', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const s = createStatusServer({ registry: new Registry(), logger, port });
      await expect(s.listen()).rejects.toThrow(
        new ServiceError(`status server cannot listen on 127.0.0.1:${port}: the port is in use (see status.address, status.port)`),
      );
    } finally {
      blocker.close();
    }
  });

  it('closes even with a keep-alive client connected', async () => {
    const { server, url } = await start();
    await fetch(`${url}/healthz`, { keepalive: true });
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
