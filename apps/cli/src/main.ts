import { packageVersion, runCommands } from '@fulcrum/runtime';
import { COMMANDS } from './commands.js';
import { ENV_PREFIX, configSchema } from './config.js';

await runCommands({
  name: 'fulcrumctl',
  summary:
    'operate a Fulcrum installation through config-api. Exit codes: 0 ok, 1 API unreachable or failed, 2 usage, 3 refused (invalid, conflict), 4 not found, 5 denied, 6 an agent failed the operation, 7 diff found differences',
  version: packageVersion(new URL('../package.json', import.meta.url)),
  configSchema,
  envPrefix: ENV_PREFIX,
  commands: COMMANDS,
  examples: [
    'FULCRUMCTL_API__TOKEN=... fulcrumctl ls',
    'fulcrumctl apply -f desired.yaml --prune host',
    'fulcrumctl drain web 192.168.80.139:80 --reason "kernel update"',
    'fulcrumctl import keepalived /etc/keepalived/keepalived.conf --host lvs1 --dry-run',
    'fulcrumctl export --format keepalived --host lvs2',
    'fulcrumctl events --type health,vrrp-state --object web',
  ],
});
