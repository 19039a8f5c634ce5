import type { IpvsTable } from '@fulcrum/schemas';
import { applyIpvsadmOperations } from './apply.js';
import { IpvsadmRestoreError, type IpvsadmIssue } from './errors.js';
import type { LocatedOperation } from './operation.js';
import { parseCommandTokens } from './parse-command.js';
import { tokenizeLine } from './tokenize.js';

export interface IpvsadmRestore {
  /** The table the file builds, replayed on an empty table (ipvsadm-restore clears first). */
  table: IpvsTable;
  /** Every command in file order, with where it came from. */
  operations: LocatedOperation[];
}

function readCommands(text: string): { operations: LocatedOperation[]; issues: IpvsadmIssue[] } {
  const operations: LocatedOperation[] = [];
  const issues: IpvsadmIssue[] = [];
  text.split('\n').forEach((lineText, index) => {
    const tokens = tokenizeLine(lineText, index + 1);
    if (tokens.length === 0) return;
    const r = parseCommandTokens(tokens);
    issues.push(...r.issues);
    if (r.located) operations.push(r.located);
  });
  return { operations, issues };
}

/**
 * Read the commands of an ipvsadm-restore file (what `ipvsadm-save -n` prints, or any `-A -E -D
 * -a -e -d -C -Z --set` lines). Throws IpvsadmRestoreError listing every syntax error.
 */
export function parseIpvsadmCommands(text: string): LocatedOperation[] {
  const { operations, issues } = readCommands(text);
  if (issues.length > 0) throw new IpvsadmRestoreError(issues);
  return operations;
}

/**
 * Parse an ipvsadm-restore file and build the table it describes, as `ipvsadm-restore` would on
 * an empty table. Throws IpvsadmRestoreError with every problem, in line order: syntax errors, and
 * what the kernel would refuse (duplicates, missing services, thresholds). With syntax errors, the
 * replay stops at the first of them, since what follows depends on what that line would have done.
 */
export function parseIpvsadmRestore(text: string): IpvsadmRestore {
  const { operations, issues } = readCommands(text);
  const firstBad = issues.length > 0 ? Math.min(...issues.map((i) => i.line)) : Infinity;
  const replayed = applyIpvsadmOperations({ services: [] }, operations.filter((o) => o.at.line < firstBad));
  const all = [...issues, ...replayed.issues].sort((a, b) => a.line - b.line || a.column - b.column);
  if (all.length > 0) throw new IpvsadmRestoreError(all);
  return { table: replayed.table, operations };
}
