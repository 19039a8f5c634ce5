// PHP's own Redis session handler (php-redis) through two proxies on one Redis: a session written through one
// backend's proxy is read and updated through the other's, as when IPVS moves a user between backends.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type RedisServer, startRedis } from '@fulcrum/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestProxy, startTestProxy } from './testing/index.js';

const run = promisify(execFile);
let redis: RedisServer;
let proxies: TestProxy[];

beforeAll(async () => {
  redis = await startRedis();
  const upstream = { mode: 'direct' as const, master: { address: '127.0.0.1', port: Number(new URL(redis.url).port) }, replicas: [] };
  proxies = await Promise.all([0, 1].map(() => startTestProxy(upstream, { keyPrefix: 'php:', maxTtlSeconds: 1800 })));
});
afterAll(async () => {
  for (const p of proxies ?? []) await p.close();
  await redis?.dispose();
});

/** One request of a PHP app: start the session, count a visit, remember the backend, save. */
async function phpRequest(proxy: TestProxy, sessionId: string, backend: string): Promise<string> {
  const code = [
    `session_id(${JSON.stringify(sessionId)});`,
    'session_start();',
    '$_SESSION["visits"] = ($_SESSION["visits"] ?? 0) + 1;',
    '$seen = $_SESSION["backends"] ?? "";',
    `$_SESSION["backends"] = $seen . ${JSON.stringify(backend)};`,
    'echo $_SESSION["visits"], " ", $_SESSION["backends"];',
    'session_write_close();',
  ].join(' ');
  const { stdout } = await run('php', [
    '-d', 'session.save_handler=redis',
    '-d', `session.save_path=tcp://127.0.0.1:${proxy.port}`,
    '-d', 'redis.session.locking_enabled=1',
    '-d', 'session.use_cookies=0',
    '-d', 'display_errors=stderr',
    '-r', code,
  ]);
  return stdout.trim();
}

describe('PHP sessions through two proxies', () => {
  it('sees the other backend\'s writes to the same session', async () => {
    const [a, b] = proxies as [TestProxy, TestProxy];
    expect(await phpRequest(a, 'sess0001abcd', 'A')).toBe('1 A');
    expect(await phpRequest(b, 'sess0001abcd', 'B')).toBe('2 AB');
    expect(await phpRequest(a, 'sess0001abcd', 'A')).toBe('3 ABA');
    expect(await phpRequest(b, 'other0002xyz', 'B')).toBe('1 B');

    const direct = new Redis({ port: Number(new URL(redis.url).port) });
    const keys = await direct.keys('*');
    expect(keys.sort()).toEqual(['php:PHPREDIS_SESSION:other0002xyz', 'php:PHPREDIS_SESSION:sess0001abcd']);
    const ttl = await direct.ttl('php:PHPREDIS_SESSION:sess0001abcd');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1800);
    direct.disconnect();
  });
});
