import { connectServiceBus, packageVersion, runService } from '@fulcrum/runtime';
import { configSchema } from './config.js';

await runService(
  {
    name: 'health-checker',
    summary: 'checks the real servers (TCP, HTTP, HTTPS, SMTP, DNS, UDP, ICMP, scripts) and reports their health',
    version: packageVersion(new URL('../package.json', import.meta.url)),
    configSchema,
    examples: [
      'health-checker --config /etc/fulcrum/health-checker.yaml',
      'health-checker --config /etc/fulcrum/health-checker.yaml --check-config',
      'FULCRUM_LOG__LEVEL=debug FULCRUM_STATUS__PORT=0 health-checker --config ./health-checker.yaml',
    ],
  },
  async (svc) => {
    await connectServiceBus(svc);
  },
);
