import { createConnection, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { canConnect } from './process.js';
import { startTcpProxy } from './tcp-proxy.js';

describe('startTcpProxy', () => {
  it('relays, drops open connections and refuses new ones when cut, and relays again when restored', async () => {
    const echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as { port: number }).port;
    const proxy = await startTcpProxy({ port });
    try {
      const client: Socket = createConnection({ host: '127.0.0.1', port: proxy.port });
      const reply = await new Promise<string>((resolve) => {
        client.once('data', (d) => resolve(d.toString()));
        client.write('ping');
      });
      expect(reply).toBe('ping');
      const closed = new Promise<void>((r) => client.once('close', () => r()));

      await proxy.cut();
      await closed;
      expect(await canConnect('127.0.0.1', proxy.port)).toBe(false);
      expect(await canConnect('127.0.0.1', port)).toBe(true); // the server itself is untouched

      await proxy.restore();
      expect(await canConnect('127.0.0.1', proxy.port)).toBe(true);
    } finally {
      await proxy.close();
      echo.close();
    }
  });
});
