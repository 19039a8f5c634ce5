import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appBin, describeAppBin, runBin, startBin } from '@fulcrum/runtime/testing';
import { type NatsServer, freePort, makeTempDir, startNats } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startRawServer } from './checks/testing/servers.js';
import { STATUS_PORT } from './config.js';

const user = { user: 'health-checker', password: 'spec-nats-password' };
let nats: NatsServer;
beforeAll(async () => {
  nats = await startNats({ jetstream: true, auth: { users: [user] } });
});
afterAll(() => nats?.dispose());

describeAppBin({
  app: 'health-checker',
  bin: 'health-checker',
  envPrefix: 'FULCRUM_',
  service: {
    statusPort: STATUS_PORT,
    env: () => ({ FULCRUM_NATS__SERVERS: nats.url, FULCRUM_NATS__USER: user.user, FULCRUM_NATS__PASSWORD: user.password }),
  },
});

const bin = appBin('health-checker');

describe('health-checker bin', () => {
  it('genhash prints the digest of a URL and passes its exit code through', async () => {
    const body = 'genhash through the app bin\n';
    const server = await startRawServer((s) => s.once('data', () => s.end(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`)));
    try {
      const ok = await runBin(bin, ['genhash', '--url', `http://127.0.0.1:${server.port}/`]);
      expect(ok).toMatchObject({ code: 0, stdout: `${createHash('md5').update(body).digest('hex')}\n` });
      expect((await runBin(bin, ['genhash'])).code).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('checks the virtual services of its config file without a bus, and logs each transition', async () => {
    const rs = await startRawServer((s) => s.destroy());
    const dir = await makeTempDir('hc-standalone');
    const config = join(dir, 'health-checker.yaml');
    writeFileSync(
      config,
      stringify({
        host: 'director1',
        nats: { servers: [`nats://127.0.0.1:${await freePort()}`] },
        status: { address: '127.0.0.1', port: 0 },
        desiredState: false,
        virtualServices: [
          {
            id: 'web',
            match: { kind: 'address', protocol: 'tcp', address: '10.0.0.100', port: 80 },
            healthChecks: [{ type: 'tcp', interval: 0.2, connectTimeout: 1, retries: 0, warmup: 0 }],
            realServers: [{ address: '127.0.0.1', port: rs.port }],
          },
        ],
      }),
    );
    const app = startBin(bin, ['--config', config]);
    try {
      const up = await app.waitForLine((l) => l.state === 'up', 15_000);
      expect(up).toMatchObject({ virtualService: 'web', realServer: { address: '127.0.0.1', port: rs.port }, previous: 'unknown' });
      await rs.close();
      const down = await app.waitForLine((l) => l.state === 'down', 5000);
      expect(down.msg).toBe(`127.0.0.1:${rs.port}: tcp check failed (refused): connection refused by 127.0.0.1:${rs.port}`);
    } finally {
      expect((await app.stop('SIGTERM')).code).toBe(0);
    }
  });
});
