import type { SourcePosition } from './operation.js';

/**
 * Split one line of a restore file into tokens the way ipvsadm's config stream does (blanks,
 * tabs and CRs separate; no quoting), with two kindnesses: a leading `ipvsadm` is dropped (so a
 * file of full command lines reads too) and a token starting with `#` begins a comment.
 */
export function tokenizeLine(text: string, line: number): SourcePosition[] {
  const tokens: SourcePosition[] = [];
  const re = /[^ \t\r]+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].startsWith('#')) break;
    tokens.push({ line, column: m.index + 1, token: m[0] });
  }
  if (tokens[0]?.token === 'ipvsadm') tokens.shift();
  return tokens;
}
