import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from './redis.js';

describe('startRedis', () => {
  let server: RedisServer | undefined;
  afterEach(async () => {
    await server?.dispose();
    server = undefined;
  });

  it('serves on a loopback port without persistence: a restart starts empty', async () => {
    server = await startRedis();
    const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      await client.set('session:1', 'alice');
      expect(await client.get('session:1')).toBe('alice');
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
      const port = server.port;
      await server.restart();
      expect(server.port).toBe(port);
      expect(await client.get('session:1')).toBeNull();
    } finally {
      client.disconnect();
    }
  });

  it('requires the password when one is set', async () => {
    server = await startRedis({ password: 'pw' });
    const anonymous = new Redis(server.url, {
      lazyConnect: true,
      enableReadyCheck: false, // the ready check itself would fail with NOAUTH
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    await anonymous.connect();
    await expect(anonymous.get('x')).rejects.toThrow(/NOAUTH/);
    anonymous.disconnect();
    const client = new Redis(server.url, { password: 'pw', lazyConnect: true });
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });
});
