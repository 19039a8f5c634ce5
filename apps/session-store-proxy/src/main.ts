import { connectServiceBus, packageVersion, runService } from '@fulcrum/runtime';
import { configSchema } from './config.js';
import { startSessionStoreProxy } from './start.js';

await runService(
  {
    name: 'session-store-proxy',
    summary: 'RESP proxy in front of the Redis tier that holds the shared sessions',
    version: packageVersion(new URL('../package.json', import.meta.url)),
    configSchema,
    examples: [
      'session-store-proxy --config /etc/fulcrum/session-store-proxy.yaml',
      'session-store-proxy --config /etc/fulcrum/session-store-proxy.yaml --check-config',
      'FULCRUM_LOG__LEVEL=debug FULCRUM_STATUS__PORT=0 session-store-proxy --config ./session-store-proxy.yaml',
    ],
  },
  async (svc) => {
    const bus = await connectServiceBus(svc);
    await startSessionStoreProxy(svc, bus);
  },
);
