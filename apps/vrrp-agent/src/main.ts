import { packageVersion, runService } from '@fulcrum/runtime';
import { configSchema } from './config.js';

await runService(
  {
    name: 'vrrp-agent',
    summary: 'moves the virtual IPs between directors with VRRP v2/v3 and gratuitous ARP',
    version: packageVersion(new URL('../package.json', import.meta.url)),
    configSchema,
    examples: [
      'vrrp-agent --config /etc/fulcrum/vrrp-agent.yaml',
      'vrrp-agent --config /etc/fulcrum/vrrp-agent.yaml --check-config',
      'FULCRUM_LOG__LEVEL=debug FULCRUM_STATUS__PORT=0 vrrp-agent --config ./vrrp-agent.yaml',
    ],
  },
);
