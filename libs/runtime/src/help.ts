import { formatPath } from '@fulcrum/schemas';
import type { z } from 'zod';
import { COMMON_OPTIONS, type CommandLineSpec, type OptionSpec } from './command-line.js';
import { type SchemaNode, envName, itemsOf, keysOf, childOf, schemaTree, typesOf } from './schema-tree.js';

export interface HelpInfo extends CommandLineSpec {
  version: string;
  /** One line: what the program is for. */
  summary: string;
  /** Command lines shown under "Examples". */
  examples?: readonly string[];
  /** Shown in the configuration section; without it the section is left out. */
  configSchema?: z.ZodType;
  envPrefix: string;
}

/** The --help text: usage, options, commands, every config key with its variable, examples, exit codes. */
export function formatHelp(info: HelpInfo): string {
  const out: string[] = [];
  const commands = Object.entries(info.commands ?? {});
  out.push(`${info.name} ${info.version}: ${info.summary}`, '');
  out.push('Usage:');
  out.push(`  ${info.name} [options]`);
  if (commands.length > 0) out.push(`  ${info.name} <command> [options]`);
  out.push('', 'Options:', ...optionLines({ ...COMMON_OPTIONS, ...(info.options ?? {}) }));
  if (commands.length > 0) {
    out.push('', 'Commands:');
    const width = Math.max(...commands.map(([n, c]) => `${n} ${c.args ?? ''}`.length));
    for (const [name, c] of commands) {
      out.push(`  ${`${name} ${c.args ?? ''}`.padEnd(width)}  ${c.summary}`);
      if (c.options) out.push(...optionLines(c.options).map((l) => `  ${l}`));
    }
  }
  if (info.configSchema) {
    out.push(
      '',
      `Configuration (file key, then the environment variable that overrides it; '__' nests,`,
      'lists are comma-separated; unknown keys are refused):',
    );
    for (const key of configKeys(schemaTree(info.configSchema), info.envPrefix)) {
      out.push(`  ${key.path.padEnd(22)} ${key.env}`);
      out.push(`      ${[key.type, key.description].filter(Boolean).join('. ')}`);
    }
  }
  if (info.examples && info.examples.length > 0) out.push('', 'Examples:', ...info.examples.map((e) => `  ${e}`));
  out.push('', 'Exit status: 0 stopped cleanly, 1 failed, 2 bad command line or configuration.');
  return `${out.join('\n')}\n`;
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const left = Object.entries(options).map(([name, o]) => {
    const short = o.short ? `-${o.short}, ` : '    ';
    return `${short}--${name}${o.valueName ? ` ${o.valueName}` : o.type === 'string' ? ' VALUE' : ''}`;
  });
  const width = Math.max(...left.map((l) => l.length));
  return Object.values(options).map((o, i) => `  ${(left[i] as string).padEnd(width)}  ${o.description}`);
}

export interface ConfigKeyDoc {
  path: string;
  env: string;
  type: string;
  description: string | undefined;
}

/** Every leaf key of the config schema with its environment variable, type and default. */
export function configKeys(tree: SchemaNode, envPrefix: string): ConfigKeyDoc[] {
  const out: ConfigKeyDoc[] = [];
  const walk = (node: SchemaNode, path: string[]) => {
    const keys = keysOf(node);
    if (keys.length > 0 && typesOf(node).has('object')) {
      for (const key of keys) walk(childOf(node, key) as SchemaNode, [...path, key]);
      return;
    }
    out.push({ path: formatPath(path), env: envName(envPrefix, path), type: describeType(node), description: node.description });
  };
  walk(tree, []);
  return out;
}

function describeType(node: SchemaNode): string {
  const enumValues = node.enum ?? node.anyOf?.flatMap((v) => v.enum ?? []);
  let type: string;
  if (enumValues && enumValues.length > 0) type = `one of ${enumValues.join(', ')}`;
  else if (typesOf(node).has('array')) type = `list of ${[...typesOf(itemsOf(node) ?? {})].join('|') || 'values'}`;
  else type = [...typesOf(node)].join('|') || 'value';
  if (node.minimum !== undefined && node.maximum !== undefined) type += ` ${node.minimum}..${node.maximum}`;
  if (node.default !== undefined) type += `, default ${JSON.stringify(node.default)}`;
  return type;
}
