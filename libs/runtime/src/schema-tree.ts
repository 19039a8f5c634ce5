import { z } from 'zod';

/**
 * The part of a zod schema's JSON Schema (input side) that config loading needs: which keys exist,
 * their types, defaults and descriptions. Going through `z.toJSONSchema` keeps us off zod internals.
 */
export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  allOf?: SchemaNode[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
}

export function schemaTree(schema: z.ZodType): SchemaNode {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as SchemaNode;
}

/** The node's alternatives: itself, or the members of its anyOf/oneOf/allOf. */
function variants(node: SchemaNode): SchemaNode[] {
  const members = [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])];
  return members.length > 0 ? members.flatMap(variants) : [node];
}

/** Every JSON type the node accepts (`enum`/`const` count as the type of their values). */
export function typesOf(node: SchemaNode): Set<string> {
  const out = new Set<string>();
  for (const v of variants(node)) {
    if (Array.isArray(v.type)) v.type.forEach((t) => out.add(t));
    else if (v.type) out.add(v.type);
    for (const e of v.enum ?? (v.const !== undefined ? [v.const] : [])) out.add(typeof e === 'number' ? 'number' : typeof e);
  }
  return out;
}

/** The named child of an object node, looking through unions; undefined when there is none. */
export function childOf(node: SchemaNode, key: string): SchemaNode | undefined {
  for (const v of variants(node)) {
    const child = v.properties?.[key];
    if (child) return child;
  }
  return undefined;
}

/** The fixed keys of an object node (through unions). */
export function keysOf(node: SchemaNode): string[] {
  const keys = new Set<string>();
  for (const v of variants(node)) Object.keys(v.properties ?? {}).forEach((k) => keys.add(k));
  return [...keys];
}

/** The item schema of an array node, if any. */
export function itemsOf(node: SchemaNode): SchemaNode | undefined {
  return variants(node).find((v) => v.items)?.items;
}

/** `credsFile` -> `CREDS_FILE`: the environment spelling of one key. */
export function envSegment(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/** The environment variable that sets `path`, e.g. `FULCRUM_NATS__CREDS_FILE`. */
export function envName(prefix: string, path: readonly string[]): string {
  return `${prefix}${path.map(envSegment).join('__')}`;
}
