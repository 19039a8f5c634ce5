import { existsSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { afterEach, describe, expect, it } from 'vitest';
import { canConnect } from './process.js';
import { startNats, type NatsServer } from './nats.js';

async function reconnected(nc: NatsConnection): Promise<void> {
  for await (const s of nc.status()) if (s.type === 'reconnect') return;
}

describe('startNats', () => {
  let server: NatsServer | undefined;
  afterEach(async () => {
    await server?.dispose();
    server = undefined;
  });

  it('runs JetStream on a loopback port and keeps port and store across restart and crash', async () => {
    server = await startNats();
    expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    try {
      const kv = await new Kvm(nc).create('harness');
      await kv.put('k', 'before');

      const { port, storeDir } = server;
      const back = reconnected(nc);
      await server.restart();
      await back;
      expect(server.port).toBe(port);
      expect((await kv.get('k'))?.string()).toBe('before');

      await server.kill();
      expect(server.isRunning()).toBe(false);
      expect(await canConnect('127.0.0.1', port)).toBe(false);
      const again = reconnected(nc);
      await server.start();
      await again;
      expect(server.storeDir).toBe(storeDir);
      expect((await kv.get('k'))?.string()).toBe('before');
    } finally {
      await nc.close();
    }
  });

  it('requires the configured credentials', async () => {
    server = await startNats({ auth: { users: [{ user: 'agent', password: 's3cret' }] } });
    await expect(connect({ servers: server.url, user: 'agent', pass: 'wrong', reconnect: false })).rejects.toThrow(
      /Authorization Violation/i,
    );
    const nc = await connect({ servers: server.url, user: 'agent', pass: 's3cret' });
    // JetStream is enabled for the users' account.
    const kv = await new Kvm(nc).create('auth');
    expect(await kv.put('a', '1')).toBe(1);
    await nc.close();
  });

  it('supports a token instead of users', async () => {
    server = await startNats({ auth: { token: 'tok-123' } });
    await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(/Authorization Violation/i);
    const nc = await connect({ servers: server.url, token: 'tok-123' });
    await nc.close();
  });

  it('removes its dir on dispose', async () => {
    const s = await startNats();
    await s.dispose();
    expect(existsSync(s.dir)).toBe(false);
    expect(s.isRunning()).toBe(false);
  });
});
