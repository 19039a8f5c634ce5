import type { z } from 'zod';
import { type SchemaNode, childOf, keysOf } from './schema-tree.js';

export interface Issue {
  /** Key path of the offending value. */
  readonly path: PropertyKey[];
  /** For an unknown key: its name (the path is its parent's). */
  readonly unknownKey?: string;
  readonly message: string;
}

/**
 * Zod issues in plain words, one per offending key (an unknown-keys issue becomes one per key,
 * with a "did you mean" when a known key is one or two typos away).
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown, tree: SchemaNode): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      const known = keysOf(nodeAt(tree, path) ?? {});
      for (const key of issue.keys) {
        const near = known.filter((k) => distance(k.toLowerCase(), key.toLowerCase()) <= 2);
        const hint = near.length > 0 ? `; did you mean ${near.join(' or ')}?` : known.length > 0 ? ` (known keys: ${known.join(', ')})` : '';
        out.push({ path, unknownKey: key, message: `unknown key${hint}` });
      }
      continue;
    }
    out.push({ path, message: plainMessage(issue, valueAt(input, path)) });
  }
  return out;
}

function plainMessage(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'is required';
      if (issue.expected === 'int') return `must be a whole number, got ${show(value)}`;
      return `must be ${article(issue.expected)}, got ${typeName(value)} ${show(value)}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const least = issue.code === 'too_small';
      const word = least ? (issue.inclusive === false ? 'more than' : 'at least') : issue.inclusive === false ? 'less than' : 'at most';
      if (issue.origin === 'array' || issue.origin === 'set') return `must have ${word} ${bound} item(s)`;
      if (issue.origin === 'string') return `must be ${word} ${bound} character(s) long`;
      return `must be ${word} ${bound}, got ${show(value)}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${show(value)}`;
    default:
      // Custom messages in our schemas are already written in plain words.
      return issue.message;
  }
}

function nodeAt(tree: SchemaNode, path: readonly PropertyKey[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = tree;
  for (const part of path) {
    if (!node) return undefined;
    node = typeof part === 'number' ? node.items : childOf(node, String(part));
  }
  return node;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const part of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}

const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : typeof v);
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

