import { formatIssues, formatPath } from '@fulcrum/schemas';
import type { z } from 'zod';
import { type SchemaNode, childOf, keysOf } from './schema-tree.js';

export interface Issue {
  /** Dotted key path of the offending value, e.g. `nats.servers[0]`. */
  readonly key: string;
  /** Where to look for it in the file: the zod path (and, for an unknown key, its name). */
  readonly at: { path: PropertyKey[]; unknownKey?: string };
  readonly message: string;
}

/**
 * Zod issues in plain words (the contract's `formatIssues`), one per offending key. An unknown key
 * gets a "did you mean" when a known key is one or two typos away, or the list of known keys.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], tree: SchemaNode): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      const known = keysOf(nodeAt(tree, path) ?? {});
      for (const key of issue.keys) {
        const near = known.filter((k) => distance(k.toLowerCase(), key.toLowerCase()) <= 2);
        const hint = near.length > 0 ? `; did you mean ${near.join(' or ')}?` : known.length > 0 ? ` (known keys: ${known.join(', ')})` : '';
        out.push({ key: formatPath([...path, key]), at: { path, unknownKey: key }, message: `unknown key${hint}` });
      }
      continue;
    }
    for (const f of formatIssues([issue])) out.push({ key: f.path, at: { path }, message: f.message });
  }
  return out;
}

function nodeAt(tree: SchemaNode, path: readonly PropertyKey[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = tree;
  for (const part of path) {
    if (!node) return undefined;
    node = typeof part === 'number' ? node.items : childOf(node, String(part));
  }
  return node;
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
