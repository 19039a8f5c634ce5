// keepalived.conf syntax: statements of whitespace-separated words, blocks in braces, comments from '!' or '#'
// to the end of the line, `include <glob>` anywhere. The tree keeps each word's line and column (and file) so
// every warning and error can point at it.

export interface Position {
  file: string;
  line: number;
  column: number;
}

export interface ConfNode {
  keyword: string;
  args: string[];
  at: Position;
  /** Present when the statement opens a block. */
  children?: ConfNode[];
}

/** A syntax error: unbalanced braces, an unreadable include. */
export class KeepalivedSyntaxError extends Error {
  override readonly name = 'KeepalivedSyntaxError';
  constructor(
    readonly at: Position,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`${at.file === '' ? '' : `${at.file}:`}${at.line}:${at.column}: ${detail}`, options);
  }
}

export interface ParseOptions {
  /** Name of the file, shown in positions ('' for text given directly). */
  file?: string;
  /** Reads the files an `include` names (a glob may match several); without it, include is an error. */
  include?: (pattern: string, from: Position) => { file: string; text: string }[];
}

interface Token {
  text: string;
  at: Position;
  quoted: boolean;
}

function tokenizeLine(line: string, file: string, lineNo: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '!' || c === '#') break;
    const at = { file, line: lineNo, column: i + 1 };
    if (c === '{' || c === '}') {
      out.push({ text: c, at, quoted: false });
      i++;
      continue;
    }
    if (c === '"') {
      const end = line.indexOf('"', i + 1);
      const stop = end < 0 ? line.length : end;
      out.push({ text: line.slice(i + 1, stop), at, quoted: true });
      i = stop + 1;
      continue;
    }
    let j = i;
    while (j < line.length && !/[\s{}]/.test(line[j] ?? '') && !(j > i && (line[j] === '!' || line[j] === '#') && /\s/.test(line[j - 1] ?? ''))) j++;
    out.push({ text: line.slice(i, j), at, quoted: false });
    i = j;
  }
  return out;
}

/** Parses keepalived.conf text into statements and blocks. */
export function parseKeepalivedConf(text: string, opts: ParseOptions = {}): ConfNode[] {
  const root: ConfNode[] = [];
  const stack: { node: ConfNode | null; children: ConfNode[] }[] = [{ node: null, children: root }];
  let last: ConfNode | undefined;
  const file = opts.file ?? '';
  const depthLimit = 20;

  const feed = (content: string, name: string, depth: number) => {
    const lines = content.split('\n');
    lines.forEach((raw, index) => {
      // keepalived takes a line that starts with `include` whole, braces and all: the rest is one glob.
      const inc = /^(\s*)include[ \t]+(.*)$/.exec(raw);
      if (inc) {
        const at = { file: name, line: index + 1, column: (inc[1] ?? '').length + 1 };
        const pattern = (inc[2] ?? '').replace(/(^|\s)[!#].*$/, '').trim();
        if (!opts.include) throw new KeepalivedSyntaxError(at, `include ${pattern}: included files cannot be read here`);
        if (depth >= depthLimit) throw new KeepalivedSyntaxError(at, `include nested more than ${depthLimit} deep (a loop?)`);
        for (const f of opts.include(pattern, at)) feed(f.text, f.file, depth + 1);
        last = undefined;
        return;
      }
      const tokens = tokenizeLine(raw, name, index + 1);
      let k = 0;
      while (k < tokens.length) {
        const t = tokens[k]!;
        const top = stack[stack.length - 1]!;
        if (!t.quoted && t.text === '}') {
          if (stack.length === 1) throw new KeepalivedSyntaxError(t.at, 'unexpected "}": no block is open here');
          stack.pop();
          last = undefined;
          k++;
          continue;
        }
        if (!t.quoted && t.text === '{') {
          // "{" on its own line opens the block of the statement before it.
          if (!last || last.children) throw new KeepalivedSyntaxError(t.at, 'unexpected "{": no statement before it to open');
          last.children = [];
          stack.push({ node: last, children: last.children });
          k++;
          continue;
        }
        // A statement: this word and the rest of the line up to a brace.
        const args: string[] = [];
        let j = k + 1;
        while (j < tokens.length && (tokens[j]!.quoted || (tokens[j]!.text !== '{' && tokens[j]!.text !== '}'))) args.push(tokens[j++]!.text);
        if (t.text === 'include' && !t.quoted) {
          if (!opts.include) throw new KeepalivedSyntaxError(t.at, `include ${args.join(' ')}: included files cannot be read here`);
          if (depth >= depthLimit) throw new KeepalivedSyntaxError(t.at, `include nested more than ${depthLimit} deep (a loop?)`);
          for (const f of opts.include(args.join(' '), t.at)) feed(f.text, f.file, depth + 1);
          last = undefined;
          k = j;
          continue;
        }
        const node: ConfNode = { keyword: t.text, args, at: t.at };
        top.children.push(node);
        last = node;
        k = j;
      }
    });
  };
  feed(text, file, 0);
  if (stack.length > 1) {
    const open = stack[stack.length - 1]!.node!;
    throw new KeepalivedSyntaxError(open.at, `"${open.keyword}" opens a block that is never closed (missing "}")`);
  }
  return root;
}
