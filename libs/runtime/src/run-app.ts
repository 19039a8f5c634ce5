import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { z } from 'zod';
import { stringify } from 'yaml';
import { type CommandSpec, type OptionSpec, type OptionValues, parseCommandLine } from './command-line.js';
import { DEFAULT_ENV_PREFIX, loadConfig } from './config.js';
import { ConfigError, UsageError } from './errors.js';
import { formatHelp } from './help.js';
import { type Logger, createLogger } from './logger.js';
import { redactSecrets } from './redact.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, nodeProcess, type ProcessHooks, type Service, createService } from './service.js';
import type { LogConfig, StatusConfig } from './service-config.js';

export interface RunArgs {
  command: string | undefined;
  config: string | undefined;
  values: OptionValues;
  positionals: string[];
}

export interface CommandContext<C> {
  config: C;
  /** Writes to stderr, so stdout carries only the command's output. */
  logger: Logger;
  args: RunArgs;
  stdout: Writable;
}

/** A one-shot subcommand (e.g. `ipvs-agent dump`); returns its exit code (default 0). */
export interface AppCommand<C> extends CommandSpec {
  run(ctx: CommandContext<C>): Promise<number | void>;
}

export interface AppDefinition<S extends z.ZodType> {
  /** The program name, as typed (the npm bin). */
  name: string;
  /** One line: what it is for. */
  summary: string;
  version: string;
  configSchema: S;
  examples?: readonly string[];
  options?: Record<string, OptionSpec>;
  commands?: Record<string, AppCommand<z.output<S>>>;
  /** Defaults to FULCRUM_. */
  envPrefix?: string;
}

/** Where a program reads and writes; the real process by default, replaced in specs. */
export interface AppIo {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  stdout: Writable;
  stderr: Writable;
  process: ProcessHooks;
}

export const processIo = (): AppIo => ({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  process: nodeProcess,
});

type ServiceShape = { host: string; status: StatusConfig; log: LogConfig };
type Prepared<C> = { args: RunArgs; config: C };

/**
 * The whole life of a long-running service: command line, config, logger, status server, then
 * `main` builds the service's parts (registering each with `svc.onStop`, so they close in reverse
 * order), then "started". Ends
 * the process with 0 on a clean stop, 1 on a failure, 2 on a bad command line or configuration.
 */
export async function runService<S extends z.ZodType<ServiceShape>>(
  app: AppDefinition<S>,
  main: (svc: Service<z.output<S>>, args: RunArgs) => Promise<void> = async () => undefined,
  io: AppIo = processIo(),
): Promise<void> {
  const prepared = prepare(app, io);
  if (!prepared) return;
  const { args, config } = prepared;
  if (args.command !== undefined) return runCommand(app, prepared, io);

  let logger: Logger;
  try {
    logger = createLogger({ name: app.name, host: config.host, level: config.log.level, pretty: config.log.pretty });
  } catch (err) {
    return fail(io, app.name, err);
  }
  const svc = createService({ name: app.name, version: app.version, config, logger, process: io.process });
  try {
    await svc.start();
    await main(svc, args);
    svc.ready();
  } catch (err) {
    logger.fatal({ err }, 'startup failed');
    await svc.stop('startup failed');
    io.process.exit(EXIT_FAILURE);
  }
}

/** A command-line tool made only of subcommands (fulcrumctl): no status server, logs on stderr. */
export async function runCommands<S extends z.ZodType<{ log: LogConfig }>>(app: AppDefinition<S>, io: AppIo = processIo()): Promise<void> {
  const prepared = prepare(app, io);
  if (!prepared) return;
  if (prepared.args.command === undefined) {
    const known = Object.keys(app.commands ?? {});
    const hint = known.length > 0 ? `one of: ${known.join(', ')}` : `${app.name} has no commands yet`;
    return fail(io, app.name, new UsageError(`no command given (${hint})`));
  }
  return runCommand(app, prepared, io);
}

async function runCommand<S extends z.ZodType<{ log: LogConfig }>>(
  app: AppDefinition<S>,
  { args, config }: Prepared<z.output<S>>,
  io: AppIo,
): Promise<void> {
  const command = app.commands?.[args.command as string] as AppCommand<z.output<S>>;
  try {
    const logger = createLogger({ name: app.name, level: config.log.level, pretty: config.log.pretty, destination: 2 });
    const code = await command.run({ config, logger, args, stdout: io.stdout });
    io.process.exit(code ?? EXIT_OK);
  } catch (err) {
    fail(io, app.name, err);
  }
}

/** Parses the command line and loads the config; handles --help, --version and --check-config. */
function prepare<S extends z.ZodType>(app: AppDefinition<S>, io: AppIo): Prepared<z.output<S>> | undefined {
  const envPrefix = app.envPrefix ?? DEFAULT_ENV_PREFIX;
  try {
    const parsed = parseCommandLine(app, io.argv);
    if (parsed.kind === 'help') {
      io.stdout.write(formatHelp({ ...app, envPrefix }));
      io.process.exit(EXIT_OK);
      return undefined;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(`${app.name} ${app.version}\n`);
      io.process.exit(EXIT_OK);
      return undefined;
    }
    const loaded = loadConfig(app.configSchema, { file: parsed.config, env: io.env, envPrefix });
    for (const name of loaded.ignoredEnv) io.stderr.write(`${app.name}: warning: ${name} names no configuration key; ignored\n`);
    if (parsed.checkConfig) {
      const from = parsed.config ? parsed.config : 'defaults and environment';
      io.stdout.write(`# ${app.name}: configuration OK (${from}); secrets hidden\n${stringify(redactSecrets(loaded.config))}`);
      io.process.exit(EXIT_OK);
      return undefined;
    }
    const { command, config, values, positionals } = parsed;
    return { args: { command, config, values, positionals }, config: loaded.config };
  } catch (err) {
    fail(io, app.name, err);
    return undefined;
  }
}

/** Reports an error to a person (no stack trace for expected errors) and exits with its code. */
function fail(io: AppIo, name: string, err: unknown): void {
  if (err instanceof UsageError) {
    io.stderr.write(`${name}: ${err.message}\nTry '${name} --help' for more information.\n`);
    io.process.exit(EXIT_USAGE);
  } else if (err instanceof ConfigError) {
    io.stderr.write(`${name}: ${err.message}\n`);
    io.process.exit(EXIT_USAGE);
  } else {
    io.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    io.process.exit(EXIT_FAILURE);
  }
}

/** The `version` of the package.json at `url` (apps pass `new URL('../package.json', import.meta.url)`). */
export function packageVersion(url: URL): string {
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
