import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type CommandLineSpec, parseCommandLine } from './command-line.js';
import { UsageError } from './errors.js';
import { configKeys, formatHelp } from './help.js';
import { schemaTree } from './schema-tree.js';
import { serviceConfig } from './service-config.js';

const agent: CommandLineSpec = {
  name: 'ipvs-agent',
  options: { role: { type: 'string', valueName: 'ROLE', description: 'director or realserver' } },
  commands: {
    dump: { summary: 'print the kernel table', args: '[SERVICE]', options: { json: { type: 'boolean', description: 'as JSON' } } },
  },
};

function usageError(argv: string[], spec: CommandLineSpec = agent): string {
  try {
    parseCommandLine(spec, argv);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error(`expected a UsageError for ${argv.join(' ')}`);
}

describe('parseCommandLine', () => {
  it('reads --config, its short form, and the app options', () => {
    expect(parseCommandLine(agent, ['--config', '/etc/fulcrum/ipvs-agent.yaml', '--role', 'realserver'])).toMatchObject({
      kind: 'run',
      command: undefined,
      config: '/etc/fulcrum/ipvs-agent.yaml',
      checkConfig: false,
      values: { role: 'realserver' },
    });
    expect(parseCommandLine(agent, ['-c', 'a.yaml', '--check-config'])).toMatchObject({ config: 'a.yaml', checkConfig: true });
    expect(parseCommandLine(agent, ['--config=b.json'])).toMatchObject({ config: 'b.json' });
  });

  it('gives --help and --version precedence over everything else', () => {
    expect(parseCommandLine(agent, ['--config', 'x', '--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(agent, ['-h'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(agent, ['-V'])).toEqual({ kind: 'version' });
  });

  it('finds a subcommand wherever the common options are, with its own options and arguments', () => {
    expect(parseCommandLine(agent, ['-c', 'a.yaml', 'dump', '--json', 'tcp|10.0.0.1|80'])).toMatchObject({
      kind: 'run',
      command: 'dump',
      config: 'a.yaml',
      values: { json: true },
      positionals: ['tcp|10.0.0.1|80'],
    });
  });

  it('refuses what it does not know with a plain message', () => {
    expect(usageError(['--bogus'])).toBe('unknown option --bogus');
    expect(usageError(['--config'])).toBe('option --config needs a value');
    expect(usageError(['--config', '--help'])).toMatch(/^option --config needs a value/);
    expect(usageError(['--help=yes'])).toBe('option --help takes no value');
    expect(usageError(['--json'])).toBe('unknown option --json'); // only valid after `dump`
    expect(usageError(['frobnicate'])).toBe('unknown command "frobnicate" (commands: dump)');
    expect(usageError(['extra'], { name: 'vrrp-agent' })).toBe('unexpected argument "extra": vrrp-agent takes no commands');
  });
});

describe('formatHelp', () => {
  const schema = serviceConfig({ statusPort: 9701 }).extend({ role: z.enum(['director', 'realserver']).default('director') });

  it('shows name, purpose, options, commands, every config key with its variable, examples and exit codes', () => {
    const text = formatHelp({
      ...agent,
      version: '0.1.0',
      summary: 'keeps the IPVS table equal to the desired state',
      configSchema: schema,
      envPrefix: 'FULCRUM_',
      examples: ['ipvs-agent --config /etc/fulcrum/ipvs-agent.yaml'],
    });
    expect(text).toMatch(/^ipvs-agent 0\.1\.0: keeps the IPVS table equal to the desired state\n/);
    expect(text).toMatch(/-c, --config FILE +configuration file/);
    expect(text).toMatch(/--role ROLE +director or realserver/);
    expect(text).toMatch(/dump \[SERVICE\] +print the kernel table/);
    expect(text).toMatch(/nats\.credsFile +FULCRUM_NATS__CREDS_FILE/);
    expect(text).toMatch(/status\.port +FULCRUM_STATUS__PORT\n +integer 0\.\.65535, default 9701/);
    expect(text).toMatch(/role +FULCRUM_ROLE\n +one of director, realserver, default "director"/);
    expect(text).toContain('  ipvs-agent --config /etc/fulcrum/ipvs-agent.yaml');
    expect(text).toContain('Exit status: 0 stopped cleanly, 1 failed, 2 bad command line or configuration.');
  });

  it('lists exactly the leaf keys of the schema', () => {
    expect(configKeys(schemaTree(schema), 'FULCRUM_').map((k) => k.path)).toEqual([
      'host',
      'nats.servers',
      'nats.user',
      'nats.password',
      'nats.token',
      'nats.credsFile',
      'nats.requestTimeoutMs',
      'status.address',
      'status.port',
      'log.level',
      'log.pretty',
      'role',
    ]);
  });
});
