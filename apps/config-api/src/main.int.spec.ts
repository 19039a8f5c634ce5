import { describeAppBin } from '@fulcrum/runtime/testing';
import { type NatsServer, startNats } from '@fulcrum/testing';
import { afterAll, beforeAll } from 'vitest';
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
