import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bus, connectBus, openStore } from '@fulcrum/bus';
import { statusBucket } from '@fulcrum/schemas';
import { type ManagedServer, type NatsServer, type RedisServer, eventually, freePort, makeTempDir, startNats, startProcess, startRedis } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The service as deployed (its bin, a store in direct mode, NATS): what it reports of its upstream lands in the
// status bucket, where config-api's /v1/status reads the session stores from, not only as a passing event.

const BIN = fileURLToPath(new URL('../bin/session-store-proxy.mjs', import.meta.url));
let nats: NatsServer;
let redis: RedisServer;
let proxy: ManagedServer;
let admin: Bus;

beforeAll(async () => {
  nats = await startNats({ jetstream: true });
  redis = await startRedis();
  admin = await connectBus({ servers: nats.url, name: 'spec' });
  const dir = makeTempDir('ssp-status');
  const statusPort = await freePort('127.0.0.1');
  const listenPort = await freePort('127.0.0.1');
  const config = join(dir, 'ssp.yaml');
  // JSON is YAML too.
  writeFileSync(
    config,
    JSON.stringify({
      host: 'web1',
      nats: { servers: [nats.url] },
      status: { address: '127.0.0.1', port: statusPort },
      log: { level: 'info' },
      store: { kind: 'session-store', id: 'sessions', hosts: ['web1'], listen: { address: '127.0.0.1', port: listenPort }, upstream: { mode: 'direct', master: { address: '127.0.0.1', port: redis.port } } },
    }),
  );
  // tsx compiles the service on its first start: slow on a crowded 2-core host.
  proxy = await startProcess({ name: 'session-store-proxy', command: process.execPath, args: [BIN, '--config', config], dir, host: '127.0.0.1', port: statusPort, readyTimeoutMs: 90_000 });
}, 120_000);

afterAll(async () => {
  await proxy?.dispose();
  await admin?.close();
  await redis?.dispose();
  await nats?.dispose();
});

describe('session-store-proxy status', () => {
  it('keeps its upstream master in the status bucket', async () => {
    const status = await openStore(admin, statusBucket);
    const e = await eventually(
      'session-store.web1.sessions in the status bucket',
      async () => {
        const v = (await status.get('session-store.web1.sessions'))?.value;
        return v?.type === 'session-store' ? v : undefined;
      },
      30_000,
    );
    expect(e.data).toMatchObject({ store: 'sessions', state: 'ok', master: { address: '127.0.0.1', port: redis.port } });
  });
});
