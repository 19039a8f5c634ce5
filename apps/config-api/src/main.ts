import { connectServiceBus, packageVersion, runService } from '@fulcrum/runtime';
import { configSchema } from './config.js';

await runService(
  {
    name: 'config-api',
    summary: 'validates and versions the desired state; the only writer of the desired-state store',
    version: packageVersion(new URL('../package.json', import.meta.url)),
    configSchema,
    examples: [
      'config-api --config /etc/fulcrum/config-api.yaml',
      'config-api --config /etc/fulcrum/config-api.yaml --check-config',
      'FULCRUM_LOG__LEVEL=debug FULCRUM_STATUS__PORT=0 config-api --config ./config-api.yaml',
    ],
  },
  async (svc) => {
    await connectServiceBus(svc);
  },
);
