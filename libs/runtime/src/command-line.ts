import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** One line for --help. */
  description: string;
  /** Shown after the option in --help, e.g. FILE. */
  valueName?: string;
  multiple?: boolean;
}

export interface CommandSpec {
  summary: string;
  /** What follows the command, e.g. `[SERVICE]`, for --help. */
  args?: string;
  options?: Record<string, OptionSpec>;
}

export interface CommandLineSpec {
  name: string;
  /** Options of the app on top of the common ones. */
  options?: Record<string, OptionSpec>;
  /** Subcommands (e.g. `dump`); without one the app runs its default action. */
  commands?: Record<string, CommandSpec>;
}

export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export type ParsedCommandLine =
  | { kind: 'help' }
  | { kind: 'version' }
  | {
      kind: 'run';
      /** The subcommand, or undefined for the default action. */
      command: string | undefined;
      config: string | undefined;
      checkConfig: boolean;
      values: OptionValues;
      positionals: string[];
    };

/** Options every Fulcrum program has. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  config: {
    type: 'string',
    short: 'c',
    valueName: 'FILE',
    description: 'configuration file (YAML or JSON); without it: defaults and environment only',
  },
  'check-config': {
    type: 'boolean',
    description: 'check the configuration, print it with secrets hidden, and exit',
  },
  help: { type: 'boolean', short: 'h', description: 'show this help and exit' },
  version: { type: 'boolean', short: 'V', description: 'print the version and exit' },
};

/**
 * Parses argv with node:util parseArgs: the common options, the app's own, and those of the
 * subcommand named by the first positional argument. Throws `UsageError` with a plain message.
 */
export function parseCommandLine(spec: CommandLineSpec, argv: readonly string[]): ParsedCommandLine {
  const commands = spec.commands ?? {};
  const base = { ...COMMON_OPTIONS, ...(spec.options ?? {}) };
  // First pass, lenient: find which subcommand (if any) is named, to know its options.
  const allOptions = Object.assign({}, base, ...Object.values(commands).map((c) => c.options ?? {}));
  const first = parseArgs({ args: [...argv], options: toParseArgs(allOptions), strict: false, allowPositionals: true });
  const commandName = first.positionals[0];
  const command = commandName === undefined ? undefined : commands[commandName];
  if (commandName !== undefined && !command) {
    const known = Object.keys(commands);
    throw new UsageError(
      known.length > 0
        ? `unknown command ${JSON.stringify(commandName)} (commands: ${known.join(', ')})`
        : `unexpected argument ${JSON.stringify(commandName)}: ${spec.name} takes no commands`,
    );
  }
  const options = { ...base, ...(command?.options ?? {}) };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: toParseArgs(options), strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(usageMessage(err), { cause: err });
  }
  const values = parsed.values as OptionValues;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const config = values.config;
  if (config === '') throw new UsageError('option --config needs a file name');
  return {
    kind: 'run',
    command: command ? commandName : undefined,
    config: typeof config === 'string' ? config : undefined,
    checkConfig: values['check-config'] === true,
    values,
    positionals: command ? parsed.positionals.slice(1) : parsed.positionals,
  };
}

function toParseArgs(options: Record<string, OptionSpec>) {
  return Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
    ]),
  );
}

/** parseArgs' messages, made shorter and without its advice about `--`. */
function usageMessage(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  const option = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (message.includes('does not take an argument')) return `option ${option} takes no value`;
      if (message.includes('ambiguous')) return `option ${option} needs a value (for a value that starts with '-', write ${option}=VALUE)`;
      return `option ${option} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted}`;
    default:
      return message.split('\n')[0] ?? message;
  }
}
