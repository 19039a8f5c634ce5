import { connectServiceBus, packageVersion, runService } from '@fulcrum/runtime';
import { UsageError } from '@fulcrum/runtime';
import { commands } from './cli/commands.js';
import { ROLES, configSchema } from './config.js';
import type { Role } from './config.js';
import { runDirector } from './director/run.js';
import { runRealServer } from './realserver/run.js';

await runService(
  {
    name: 'ipvs-agent',
    summary: 'programs the kernel IPVS table from the desired state and keeps it true (director), or holds the VIPs of DR/TUN services (real server)',
    version: packageVersion(new URL('../package.json', import.meta.url)),
    configSchema,
    options: {
      role: { type: 'string', valueName: 'ROLE', description: `director | realserver (overrides the config's role)` },
    },
    commands: commands(),
    examples: [
      'ipvs-agent --config /etc/fulcrum/ipvs-agent.yaml',
      'ipvs-agent --config /etc/fulcrum/ipvs-agent.yaml --role realserver',
      'ipvs-agent --config /etc/fulcrum/ipvs-agent.yaml --check-config',
      'ipvs-agent dump --json',
      'ipvs-agent apply --dry-run /etc/ipvsadm.rules',
      'FULCRUM_LOG__LEVEL=debug FULCRUM_STATUS__PORT=0 ipvs-agent --config ./ipvs-agent.yaml',
    ],
  },
  async (svc, args) => {
    const option = args.values.role;
    if (option !== undefined && !ROLES.includes(option as Role)) {
      throw new UsageError(`--role must be one of ${ROLES.join(', ')} (got ${JSON.stringify(option)})`);
    }
    const role = (option as Role | undefined) ?? svc.config.role;
    svc.logger.info({ role }, 'role');
    const bus = await connectServiceBus(svc);
    if (role === 'director') await runDirector(svc, bus);
    else await runRealServer(svc, bus);
  },
);
