import { appBin, describeAppBin, runBin } from '@fulcrum/runtime/testing';
import { type NatsServer, startNats } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type TokenEntry, TokenVerifier } from './auth/tokens.js';
import { STATUS_PORT } from './config.js';

const user = { user: 'config-api', password: 'spec-nats-password' };
let nats: NatsServer;
beforeAll(async () => {
  nats = await startNats({ jetstream: true, auth: { users: [user] } });
});
afterAll(() => nats?.dispose());

describeAppBin({
  app: 'config-api',
  bin: 'config-api',
  envPrefix: 'FULCRUM_',
  service: {
    statusPort: STATUS_PORT,
    env: () => ({ FULCRUM_API__PORT: '0', FULCRUM_NATS__SERVERS: nats.url, FULCRUM_NATS__USER: user.user, FULCRUM_NATS__PASSWORD: user.password }),
  },
});

describe('config-api hash-token', () => {
  it('prints a new token and a tokens-file entry whose hash verifies it (and only it)', async () => {
    const r = await runBin(appBin('config-api'), ['hash-token', '--role', 'operator', '--name', 'alice']);
    expect(r.code).toBe(0);
    const token = /^token: (\S+)$/m.exec(r.stdout)?.[1];
    const entry = parseYaml(r.stdout.split('# tokens file entry:\n')[1] ?? '') as TokenEntry[];
    expect(entry[0]).toMatchObject({ name: 'alice', role: 'operator' });
    const verifier = new TokenVerifier(entry);
    expect(await verifier.verify(token ?? '')).toEqual({ name: 'alice', role: 'operator' });
    expect(await verifier.verify(`${token}x`)).toBeNull();
    expect((await runBin(appBin('config-api'), ['hash-token', '--role', 'root'])).code).toBe(2);
  });
});
