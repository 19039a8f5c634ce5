import { execFile } from 'node:child_process';
import { type Socket, createConnection } from 'node:net';
import { promisify } from 'node:util';
import { type RedisServer, eventually, startRedis } from '@fulcrum/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestProxy, startTestProxy } from './testing/index.js';

const run = promisify(execFile);
let redis: RedisServer;
let direct: Redis;
let proxy: TestProxy;
const port = (url: string) => Number(new URL(url).port);

beforeAll(async () => {
  redis = await startRedis({ password: 'upstream-secret' });
  direct = new Redis({ port: port(redis.url), password: 'upstream-secret' });
  proxy = await startTestProxy(
    { mode: 'direct', master: { address: '127.0.0.1', port: port(redis.url) }, replicas: [] },
    { upstreamPassword: 'upstream-secret', keyPrefix: 'shop:', maxTtlSeconds: 3600, partialTimeoutMs: 400, limits: { maxBulkBytes: 512 * 1024, maxArgs: 4096, maxLineBytes: 64 * 1024 } },
  );
});
afterAll(async () => {
  direct?.disconnect();
  await proxy?.close();
  await redis?.dispose();
});

const cli = async (...args: string[]) => (await run('redis-cli', ['-p', String(proxy.port), ...args])).stdout.trim();

/** A raw client: sends bytes, collects what comes back, says when the proxy closed it. */
function raw(): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port: proxy.port });
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
  });
}

describe('redis-cli through the proxy', () => {
  it('stores under the app prefix with the maximum TTL, never the upstream password', async () => {
    expect(await cli('SET', 'sess:1', 'alice')).toBe('OK');
    expect(await cli('GET', 'sess:1')).toBe('alice');
    expect(await direct.get('shop:sess:1')).toBe('alice');
    expect(await direct.ttl('shop:sess:1')).toBeGreaterThan(3590);
    expect(await cli('EXPIRE', 'sess:1', '999999')).toBe('1');
    expect(Number(await cli('TTL', 'sess:1'))).toBeLessThanOrEqual(3600);
    expect(await cli('PERSIST', 'sess:1')).toBe('1');
    expect(await direct.ttl('shop:sess:1')).toBeGreaterThan(0);
  });

  it('refuses what is not allowed, naming the command', async () => {
    expect(await cli('FLUSHALL')).toMatch(/command 'FLUSHALL' is not allowed/);
    expect(await cli('CONFIG', 'GET', 'requirepass')).toMatch(/command 'CONFIG' is not allowed/);
    expect(await direct.exists('shop:sess:1')).toBe(1);
  });

  it('answers INFO and PROXY STATUS about itself', async () => {
    const info = await cli('PROXY', 'STATUS');
    expect(info).toMatch(/upstream_state:up/);
    expect(info).toMatch(new RegExp(`upstream_master:127.0.0.1:${port(redis.url)}`));
    expect(info).not.toMatch(/upstream-secret/);
  });
});

describe('ioredis through the proxy', () => {
  it('gets 2000 pipelined replies in order, binary values intact', async () => {
    const c = new Redis({ port: proxy.port });
    const bin = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const p = c.pipeline();
    for (let i = 0; i < 1000; i++) p.set(`k${i}`, Buffer.concat([bin, Buffer.from(String(i))]));
    for (let i = 0; i < 1000; i++) p.getBuffer(`k${i}`);
    const res = (await p.exec()) ?? [];
    expect(res.slice(0, 1000).every(([e, v]) => e === null && v === 'OK')).toBe(true);
    res.slice(1000).forEach(([, v], i) => expect(v).toEqual(Buffer.concat([bin, Buffer.from(String(i))])));
    c.disconnect();
  });

  it('runs hashes, lock scripts and transactions (a WATCHed change aborts EXEC)', async () => {
    const c = new Redis({ port: proxy.port });
    const other = new Redis({ port: proxy.port });
    await c.hset('h', 'user', 'bob', 'n', '1');
    expect(await c.hgetall('h')).toEqual({ user: 'bob', n: '1' });
    expect(await c.hincrby('h', 'n', 2)).toBe(3);
    expect(await direct.ttl('shop:h')).toBeGreaterThan(0);
    const lock = "if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 else return 0 end";
    expect(await c.eval(lock, 1, 'lock:h', 'me', '5000')).toBe(1);
    expect(await other.eval(lock, 1, 'lock:h', 'you', '5000')).toBe(0);
    expect(await direct.get('shop:lock:h')).toBe('me');

    expect(await c.multi().set('t', '1').incr('t').get('t').exec()).toEqual([[null, 'OK'], [null, 2], [null, '2']]);
    await c.watch('t');
    await other.set('t', 'changed');
    expect(await c.multi().set('t', 'mine').exec()).toBeNull();
    expect(await direct.get('shop:t')).toBe('changed');
    c.disconnect();
    other.disconnect();
  });
});

describe('RESP3', () => {
  it('HELLO 3 switches the replies to RESP3 (maps, nulls)', async () => {
    const c = await raw();
    c.socket.write('HELLO 3\r\n*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n');
    await eventually('replies', () => /%2\r\n\$4\r\nuser/.test(c.received()));
    expect(c.received()).toMatch(/^%\d+\r\n\$6\r\nserver\r\n/);
    expect(c.received()).toContain('\r\n_\r\n');
    c.socket.destroy();
  });
});

describe('client authentication', () => {
  it('requires AUTH with the proxy\'s own password', async () => {
    const locked = await startTestProxy(
      { mode: 'direct', master: { address: '127.0.0.1', port: port(redis.url) }, replicas: [] },
      { upstreamPassword: 'upstream-secret', clientPassword: 'client-pw' },
    );
    const p = (...a: string[]) => run('redis-cli', ['-p', String(locked.port), ...a]).then((r) => r.stdout.trim());
    expect(await p('GET', 'x')).toMatch(/NOAUTH/);
    expect(await p('AUTH', 'upstream-secret')).toMatch(/WRONGPASS/);
    expect(await p('-a', 'client-pw', '--no-auth-warning', 'SET', 'x', '1')).toBe('OK');
    await locked.close();
  });
});

describe('adversarial clients', () => {
  it.each([
    ['a 500 MB bulk header', '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$524288000\r\n', /bulk length: 524288000 bytes/],
    ['a negative length', '*2\r\n$3\r\nGET\r\n$-9\r\n', /negative/],
    ['deeply nested arrays', `${'*1\r\n'.repeat(10_000)}$4\r\nPING\r\n`, /nested arrays/],
    ['garbage', '*1\r\n$4\r\nPINGxx\r\n', /not followed by CRLF/],
  ])('closes the client that sends %s with an error; others are unaffected', async (_, wire, message) => {
    const bystander = new Redis({ port: proxy.port });
    await bystander.set('b', '1');
    const bad = await raw();
    bad.socket.write(wire);
    await bad.closed;
    expect(bad.received()).toMatch(/^-ERR Protocol error: /);
    expect(bad.received()).toMatch(message);
    expect(await bystander.get('b')).toBe('1');
    bystander.disconnect();
  });

  it('closes a slowloris client that never finishes its command', async () => {
    const bystander = new Redis({ port: proxy.port });
    const slow = await raw();
    const started = Date.now();
    slow.socket.write('*2\r\n$3\r\nGET\r\n$5\r\nab');
    const drip = setInterval(() => slow.socket.writable && slow.socket.write('c'), 100);
    await slow.closed;
    clearInterval(drip);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(slow.received()).toMatch(/incomplete command for too long/);
    expect(await bystander.ping()).toBe('PONG');
    bystander.disconnect();
  });

  it('stops reading a client that does not read its replies', async () => {
    await direct.set('shop:big', Buffer.alloc(100 * 1024, 1));
    const hog = await raw();
    hog.socket.pause(); // never reads: replies pile up in the kernel buffers, then in the proxy
    const get = Buffer.from('*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n');
    const before = proxy.proxy.totalCommands;
    for (let i = 0; i < 20_000 && hog.socket.write(get); i++);
    for (let i = 0; i < 2000; i++) hog.socket.write(get);
    await new Promise((r) => setTimeout(r, 1000));
    // 100 KB replies: without backpressure 22,000 GETs would mean 2 GB queued in the proxy.
    const processed = proxy.proxy.totalCommands - before;
    expect(processed).toBeLessThan(1000);
    expect(await cli('PING')).toBe('PONG');
    hog.socket.destroy();
  });
});

describe('redis-benchmark through the proxy', () => {
  it('runs SET/GET unpipelined and pipelined without errors', async () => {
    for (const pipeline of ['1', '16']) {
      const { stdout } = await run('redis-benchmark', ['-p', String(proxy.port), '-t', 'set,get', '-n', '5000', '-c', '10', '-P', pipeline, '-q']);
      expect(stdout).toMatch(/SET: [\d.]+ requests per second/);
      expect(stdout).toMatch(/GET: [\d.]+ requests per second/);
    }
    expect(await direct.exists('shop:key:__rand_int__')).toBe(1);
  });
});

describe('metrics', () => {
  it('counts commands by name and records latency', async () => {
    await cli('GET', 'm1');
    await cli('GET', 'm2');
    const text = await proxy.proxy.opts.registry.metrics();
    expect(Number(/fulcrum_session_commands_total\{command="GET"\} (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/fulcrum_session_command_seconds_count \d+/);
    expect(text).toMatch(/fulcrum_session_upstream_up 1/);
  });
});
