// The upstream link against servers that misbehave: a fake "Redis" on loopback that answers garbage, or never
// answers. The proxy's clients get a retryable error, the proxy keeps serving, and it says why in PROXY STATUS.
import { type Server, type Socket, createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestProxy, startTestProxy } from './testing/index.js';

let fake: Server | null = null;
let proxy: TestProxy | null = null;
const sockets = new Set<Socket>();

afterEach(async () => {
  await proxy?.close();
  for (const s of sockets) s.destroy();
  await new Promise((r) => (fake ? fake.close(r) : r(undefined)));
  fake = null;
  proxy = null;
});

/** A server that calls `answer` with each chunk a connection sends. */
async function fakeUpstream(answer: (socket: Socket, chunk: Buffer) => void): Promise<number> {
  fake = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => answer(socket, chunk));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => fake?.listen(0, '127.0.0.1', r));
  const address = fake.address();
  if (address === null || typeof address === 'string') throw new Error('fake upstream has no port');
  return address.port;
}

const upstream = (port: number) => ({ mode: 'direct' as const, master: { address: '127.0.0.1', port }, replicas: [] });

describe('upstream link', () => {
  it('closes a link that answers with something that is not RESP; the client gets TRYAGAIN', async () => {
    const port = await fakeUpstream((socket) => socket.write('hello, I am not redis\r\n'));
    proxy = await startTestProxy(upstream(port), { commandTimeoutMs: 2000 });
    const client = new Redis({ port: proxy.port, maxRetriesPerRequest: 0 });
    await expect(client.get('k')).rejects.toThrow(/^TRYAGAIN /);
    const status = await client.call('PROXY', 'STATUS');
    expect(String(status)).toMatch(/upstream_last_error:.*unexpected reply type byte 0x68/);
    client.disconnect();
  });

  it('drops a link that stops answering after commandTimeoutMs; the client gets TRYAGAIN', async () => {
    const port = await fakeUpstream(() => undefined);
    proxy = await startTestProxy(upstream(port), { commandTimeoutMs: 300 });
    const client = new Redis({ port: proxy.port, maxRetriesPerRequest: 0, commandTimeout: 20_000 });
    // GET is idempotent: it is sent a second time on a new link, which does not answer either.
    await expect(client.get('k')).rejects.toThrow(/^TRYAGAIN /);
    expect(String(await client.call('PROXY', 'STATUS'))).toMatch(/upstream_last_error:no reply within 300 ms/);
    client.disconnect();
  });

  it('hands each client its own reply when the upstream splits replies at odd places', async () => {
    // Answers every command with one bulk naming its key, sent one byte at a time. Any case, as Redis: the proxy
    // forwards a command it does not rewrite as the client spelled it.
    const GET = /^\*2\r\n\$3\r\nGET\r\n\$\d+\r\n([^\r]*)\r\n/i;
    let pending = '';
    const port = await fakeUpstream((socket, chunk) => {
      pending += chunk.toString('latin1');
      for (let m = GET.exec(pending); m; m = GET.exec(pending)) {
        pending = pending.slice(m[0].length);
        const key = m[1] ?? '';
        for (const byte of Buffer.from(`$${key.length}\r\n${key}\r\n`)) socket.write(Buffer.from([byte]));
      }
    });
    proxy = await startTestProxy(upstream(port), { maxTtlSeconds: null });
    const clients = [0, 1, 2].map(() => new Redis({ port: proxy?.port }));
    const replies = await Promise.all(clients.flatMap((c, i) => [0, 1, 2].map((j) => c.get(`key-${i}-${j}`))));
    expect(replies).toEqual(['key-0-0', 'key-0-1', 'key-0-2', 'key-1-0', 'key-1-1', 'key-1-2', 'key-2-0', 'key-2-1', 'key-2-2']);
    for (const c of clients) c.disconnect();
  });
});
