import { connectServiceBus, packageVersion, runService } from '@fulcrum/runtime';
import { configSchema } from './config.js';

await runService(
  {
    name: 'ipvs-agent',
    summary: 'programs the kernel IPVS table from the desired state and keeps it true',
    version: packageVersion(new URL('../package.json', import.meta.url)),
    configSchema,
    examples: [
      'ipvs-agent --config /etc/fulcrum/ipvs-agent.yaml',
      'ipvs-agent --config /etc/fulcrum/ipvs-agent.yaml --check-config',
      'FULCRUM_LOG__LEVEL=debug FULCRUM_STATUS__PORT=0 ipvs-agent --config ./ipvs-agent.yaml',
    ],
  },
  async (svc) => {
    await connectServiceBus(svc);
  },
);
