import { formatPath } from '@fulcrum/schemas';
import type { ConfigProblem } from './errors.js';
import { type SchemaNode, childOf, envSegment, itemsOf, keysOf, typesOf } from './schema-tree.js';

export interface EnvOverrides {
  /** Values from the environment, nested like the config file, already converted to the key's type. */
  readonly values: Record<string, unknown>;
  /** Dotted key path -> the variable that set it, so errors can name the variable. */
  readonly sources: ReadonlyMap<string, string>;
  readonly problems: readonly ConfigProblem[];
  /** Variables with the prefix whose first part is no config key (they may belong to another tool). */
  readonly ignored: readonly string[];
}

/**
 * Reads `PREFIX_KEY__SUB_KEY=value` variables into a config object, following the schema: `__` nests,
 * a camelCase key is spelled in UPPER_SNAKE (`credsFile` -> `CREDS_FILE`), lists are comma-separated
 * (or a JSON array), numbers and booleans are converted. An empty value counts as unset.
 */
export function envOverrides(tree: SchemaNode, env: NodeJS.ProcessEnv, prefix: string): EnvOverrides {
  const values: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  const ignored: string[] = [];

  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    if (!name.startsWith(prefix) || raw === undefined || raw === '') continue;
    const segments = name.slice(prefix.length).split('__');
    const path: string[] = [];
    let node: SchemaNode | undefined = tree;
    let target = values;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      const keys: string[] = keysOf(node);
      const key = keys.find((k) => envSegment(k) === segment);
      if (key === undefined) {
        if (i === 0) {
          ignored.push(name);
        } else {
          const known = keys.map(envSegment).join(', ');
          problems.push({
            key: formatPath([...path, segment.toLowerCase()]),
            source: `from ${name}`,
            message: known
              ? `${formatPath(path)} has no key ${segment} (its keys: ${known})`
              : `${formatPath(path)} cannot be set part by part from the environment`,
          });
        }
        node = undefined;
        break;
      }
      path.push(key);
      node = childOf(node, key) as SchemaNode;
      if (i < segments.length - 1) {
        const next: unknown = target[key];
        target = (next && typeof next === 'object' ? next : (target[key] = {})) as Record<string, unknown>;
      }
    }
    if (node === undefined) continue;
    const key = path[path.length - 1] as string;
    const converted = convert(raw, node);
    if ('problem' in converted) {
      problems.push({ key: formatPath(path), source: `from ${name}`, message: converted.problem });
      continue;
    }
    target[key] = converted.value;
    sources.set(formatPath(path), name);
  }
  return { values, sources, problems, ignored };
}

type Converted = { value: unknown } | { problem: string };

function convert(raw: string, node: SchemaNode): Converted {
  const types = typesOf(node);
  if (types.has('array')) {
    if (raw.trimStart().startsWith('[')) return parseJson(raw, 'a JSON array');
    const items = itemsOf(node);
    const out: unknown[] = [];
    for (const part of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const c = items ? convert(part, items) : { value: part };
      if ('problem' in c) return c;
      out.push(c.value);
    }
    return { value: out };
  }
  if (types.has('string') || types.size === 0) return { value: raw };
  if (types.has('integer') || types.has('number')) {
    const n = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(n)) return { problem: `${JSON.stringify(raw)} is not a number` };
    return { value: n };
  }
  if (types.has('boolean')) {
    const v = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return { value: true };
    if (['false', '0', 'no', 'off'].includes(v)) return { value: false };
    return { problem: `${JSON.stringify(raw)} is not a boolean (use true or false)` };
  }
  if (types.has('object')) {
    if (raw.trimStart().startsWith('{')) return parseJson(raw, 'a JSON object');
    return { problem: 'is a group of keys: set each key with its own variable, or give a JSON object' };
  }
  return { value: raw };
}

function parseJson(raw: string, what: string): Converted {
  try {
    return { value: JSON.parse(raw) as unknown };
  } catch (err) {
    return { problem: `is not ${what}: ${(err as Error).message}` };
  }
}
