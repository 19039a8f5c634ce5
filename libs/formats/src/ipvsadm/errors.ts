/** One thing wrong in an ipvsadm restore file, pointing at the line, column and token. */
export interface IpvsadmIssue {
  line: number;
  column: number;
  /** The token the problem is about ('' at the end of a line). */
  token: string;
  message: string;
}

export function describeIssue(i: IpvsadmIssue): string {
  const near = i.token === '' ? 'at end of line' : `at '${i.token}'`;
  return `line ${i.line}, column ${i.column} ${near}: ${i.message}`;
}

/** A restore file was refused; `issues` holds every problem found, in line order. */
export class IpvsadmRestoreError extends Error {
  override name = 'IpvsadmRestoreError';
  readonly issues: readonly IpvsadmIssue[];

  constructor(issues: readonly IpvsadmIssue[], options?: { cause?: unknown }) {
    const head = `ipvsadm restore input refused: ${issues.length} error${issues.length === 1 ? '' : 's'}`;
    super([head, ...issues.map((i) => `  ${describeIssue(i)}`)].join('\n'), options);
    this.issues = issues;
  }
}

/** A table cannot be printed in ipvsadm's format (e.g. a value ipvsadm has no option for). */
export class IpvsadmFormatError extends Error {
  override name = 'IpvsadmFormatError';
}
