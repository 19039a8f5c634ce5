import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appBin } from '@fulcrum/runtime/testing';
import { type ManagedServer, type NatsCluster, eventually, freePort, makeTempDir, startNatsCluster, startProcess } from '@fulcrum/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from './auth/tokens.js';

// store.replicas on the appliance's 3-node NATS cluster: config-api creates its buckets with 3 copies, so the
// desired state stays writable when a NATS node dies.

const USER = { user: 'config-api', password: 'spec-nats-password' };
const TOKEN = 'replicas-admin-token-0123456789';

describe('config-api store.replicas on a 3-node NATS cluster', () => {
  let cluster: NatsCluster;
  let api: ManagedServer;
  let nc: NatsConnection;
  let base: string;

  beforeAll(async () => {
    cluster = await startNatsCluster({ auth: { users: [USER] } });
    const dir = makeTempDir('config-api-replicas');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const config = join(dir, 'config-api.yaml');
    const hash = await hashToken(TOKEN, { N: 1024, r: 8, p: 1 });
    writeFileSync(config, `host: control1\nstatus:\n  port: 0\nlog:\n  level: warn\nstore:\n  replicas: 3\napi:\n  port: ${port}\n  docs: false\n  tokens:\n    - name: spec\n      role: admin\n      hash: "${hash}"\n`);
    api = await startProcess({
      name: 'config-api',
      command: process.execPath,
      args: [appBin('config-api'), '--config', config],
      dir,
      host: '127.0.0.1',
      port,
      env: { FULCRUM_NATS__SERVERS: cluster.urls.join(','), FULCRUM_NATS__USER: USER.user, FULCRUM_NATS__PASSWORD: USER.password, FULCRUM_NATS__REQUEST_TIMEOUT_MS: '5000' },
      readyTimeoutMs: 90_000,
    });
    nc = await connect({ servers: [...cluster.urls], user: USER.user, pass: USER.password });
  });
  afterAll(async () => {
    await nc?.close();
    await api?.dispose();
    await cluster?.dispose();
  });

  // PUT, create or replace: a write whose answer NATS lost during the election may have been stored, and the
  // retry must not then fail as a duplicate.
  const write = (id: string) =>
    fetch(`${base}/v1/hosts/${id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'host', name: id, roles: ['realserver'] }),
      signal: AbortSignal.timeout(10_000),
    }).then((r) => r.status, () => 0);

  it('creates the desired-state, commit-log and status buckets with 3 replicas, and keeps taking writes when a node dies', async () => {
    const jsm = await jetstreamManager(nc);
    for (const stream of ['KV_fulcrum-desired', 'KV_fulcrum-commits', 'KV_fulcrum-status']) {
      expect((await jsm.streams.info(stream)).config.num_replicas, stream).toBe(3);
    }
    expect([200, 201]).toContain(await write('web1'));
    await cluster.nodes[0]!.kill();
    // The streams may elect new leaders first: the API answers 5xx/timeouts meanwhile, then writes again.
    const statuses: number[] = [];
    await eventually(
      'a write succeeds with one NATS node down',
      async () => {
        const status = await write('web2');
        statuses.push(status);
        return status === 200 || status === 201;
      },
      45_000,
    ).catch((err: unknown) => {
      throw new Error(`writes answered ${statuses.join(', ')}`, { cause: err });
    });
    const hosts = (await (await fetch(`${base}/v1/hosts`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { items: { key: string }[] };
    expect(hosts.items.map((i) => i.key)).toEqual(['host.web1', 'host.web2']);
  });
});
