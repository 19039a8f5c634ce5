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

/**
 * Read the commands of an ipvsadm-restore file (what `ipvsadm-save -n` prints, or any `-A -E -D
 * -a -e -d -C -Z --set` lines). Throws IpvsadmRestoreError listing every syntax error; nothing is
 * replayed unless the whole file reads.
 */
export function parseIpvsadmCommands(text: string): LocatedOperation[] {
  const operations: LocatedOperation[] = [];
  const issues: IpvsadmIssue[] = [];
  text.split('\n').forEach((lineText, index) => {
    const tokens = tokenizeLine(lineText, index + 1);
    if (tokens.length === 0) return;
    const r = parseCommandTokens(tokens);
    issues.push(...r.issues);
    if (r.located) operations.push(r.located);
  });
  if (issues.length > 0) throw new IpvsadmRestoreError(issues);
  return operations;
}

/**
 * Parse an ipvsadm-restore file and build the table it describes, as `ipvsadm-restore` would on
 * an empty table. Throws IpvsadmRestoreError with every problem (syntax, then what the kernel
 * would refuse: duplicates, missing services, thresholds) with line, column and token.
 */
export function parseIpvsadmRestore(text: string): IpvsadmRestore {
  const operations = parseIpvsadmCommands(text);
  const { table, issues } = applyIpvsadmOperations({ services: [] }, operations);
  if (issues.length > 0) throw new IpvsadmRestoreError(issues);
  return { table, operations };
}
