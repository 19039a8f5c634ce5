import { formatPath } from '@fulcrum/schemas';
import type { z } from 'zod';
import { envOverrides } from './config-env.js';
import { type ConfigFile, readConfigFile } from './config-file.js';
import { describeIssues } from './config-issues.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { schemaTree } from './schema-tree.js';

export const DEFAULT_ENV_PREFIX = 'FULCRUM_';

export interface LoadConfigOptions {
  /** YAML or JSON file; without one the config comes from the environment and the defaults. */
  file?: string;
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Defaults to `FULCRUM_`. */
  envPrefix?: string;
}

export interface LoadedConfig<T> {
  readonly config: T;
  readonly file: string | undefined;
  /** Variables with the prefix that name no config key; worth a warning, they may be typos. */
  readonly ignoredEnv: readonly string[];
}

/**
 * Reads the file, lays the environment over it, and parses the result once with `schema`.
 * Throws `ConfigError` listing every problem as `key.path (line N | from VAR): what is wrong`.
 */
export function loadConfig<S extends z.ZodType>(schema: S, options: LoadConfigOptions = {}): LoadedConfig<z.output<S>> {
  const prefix = options.envPrefix ?? DEFAULT_ENV_PREFIX;
  const tree = schemaTree(schema);
  const source: ConfigFile | undefined = options.file === undefined ? undefined : readConfigFile(options.file);
  const env = envOverrides(tree, options.env ?? process.env, prefix);
  if (env.problems.length > 0) throw new ConfigError(options.file, env.problems);

  const input = merge(source?.data ?? {}, env.values);
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = describeIssues(result.error.issues, tree).map(({ key, at, message }): ConfigProblem => {
      const fromEnv = sourceVariable(env.sources, at.unknownKey === undefined ? at.path : [...at.path, at.unknownKey]);
      const where = fromEnv ? `from ${fromEnv}` : source?.locate(at.path, at.unknownKey);
      return where ? { key, message, source: where } : { key, message };
    });
    throw new ConfigError(options.file, problems, { cause: result.error });
  }
  return { config: result.data, file: options.file, ignoredEnv: env.ignored };
}

/** The variable that set `path` or one of its parents (a list set as a whole, for instance). */
function sourceVariable(sources: ReadonlyMap<string, string>, path: readonly PropertyKey[]): string | undefined {
  for (let depth = path.length; depth > 0; depth--) {
    const name = sources.get(formatPath(path.slice(0, depth)));
    if (name) return name;
  }
  return undefined;
}

/** Deep merge of plain objects; anything else in `over` replaces what is in `base`. */
export function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? merge(prev, value) : value;
  }
  return out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
