import { connectServiceBus, packageVersion, runService } from '@fulcrum/runtime';
import { configSchema } from './config.js';

await runService(
  {
    name: 'replication-monitor',
    summary: 'watches MySQL/MariaDB and Redis replication and reports lag and broken replicas',
    version: packageVersion(new URL('../package.json', import.meta.url)),
    configSchema,
    examples: [
      'replication-monitor --config /etc/fulcrum/replication-monitor.yaml',
      'replication-monitor --config /etc/fulcrum/replication-monitor.yaml --check-config',
      'FULCRUM_LOG__LEVEL=debug FULCRUM_STATUS__PORT=0 replication-monitor --config ./replication-monitor.yaml',
    ],
  },
  async (svc) => {
    await connectServiceBus(svc);
  },
);
