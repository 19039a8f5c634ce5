import { posix } from 'node:path';
import { KeepalivedSyntaxError, type ParseOptions, type Position } from './parse.js';

// `include` the way keepalived follows it: the pattern is a glob (* ? [...] and {a,b}, as glob(3) with
// GLOB_BRACE), relative to the directory of the file that names it; the files a pattern matches are read
// in sorted order (each brace alternative in turn). A pattern that matches nothing is no error in
// keepalived (an empty conf.d is normal); a plain name that matches nothing is a missing file, which we
// refuse: a config is taken whole or not at all.
//
// The files come from a map path -> text, not from a disk: the API reads nothing of its own host, and
// fulcrumctl sends the files its includes match on the operator's machine (see `includedFiles`).

/** Most files one import may carry, the main one included. */
export const MAX_INCLUDED_FILES = 256;

export interface IncludeWarning {
  at: Position;
  message: string;
}

const hasWildcard = (s: string): boolean => /[*?[]/.test(s);

/** {a,b}c -> [ac, bc], nested and in order; an unbalanced brace is taken literally, as glob does. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\') {
      i += 1;
      continue;
    }
    if (c === '{') {
      if (depth === 0) open = i;
      depth += 1;
    } else if (c === '}' && depth > 0) {
      depth -= 1;
      if (depth === 0) {
        const alternatives: string[] = [];
        let level = 0;
        let start = open + 1;
        for (let j = open + 1; j < i; j += 1) {
          const d = pattern[j];
          if (d === '\\') j += 1;
          else if (d === '{') level += 1;
          else if (d === '}') level -= 1;
          else if (d === ',' && level === 0) {
            alternatives.push(pattern.slice(start, j));
            start = j + 1;
          }
        }
        alternatives.push(pattern.slice(start, i));
        const head = pattern.slice(0, open);
        const tails = expandBraces(pattern.slice(i + 1));
        return alternatives.flatMap((a) => expandBraces(head + a).flatMap((h) => tails.map((t) => h + t)));
      }
    }
  }
  return [pattern];
}

/** One path component of a glob as a regular expression; a leading dot is matched only by a dot, as in glob(3). */
function componentRegex(glob: string): string {
  let out = glob.startsWith('.') ? '' : '(?!\\.)';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i] ?? '';
    if (c === '\\' && i + 1 < glob.length) {
      i += 1;
      out += escape(glob[i] ?? '');
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^/' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else out += escape(c);
  }
  return out;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Whether `path` (normalized, absolute or relative like the pattern) matches the brace-free glob `pattern`. */
export function globMatches(pattern: string, path: string): boolean {
  const p = pattern.split('/');
  const f = path.split('/');
  if (p.length !== f.length) return false;
  return p.every((part, i) => new RegExp(`^${componentRegex(part)}$`).test(f[i] ?? ''));
}

/** The pattern an include names, made absolute against the directory of the file it is in. */
export function includePattern(pattern: string, from: Position): string {
  if (pattern.startsWith('/')) return posix.normalize(pattern);
  return posix.normalize(posix.join(posix.dirname(from.file || '.'), pattern));
}

/**
 * An include resolver over supplied files (path -> text; paths as the including files name them,
 * normalized). Patterns that match nothing are reported through `warn`; a plain name that names no
 * supplied file is a KeepalivedSyntaxError at the include.
 */
export function includeFromFiles(files: Readonly<Record<string, string>>, warn: (w: IncludeWarning) => void): NonNullable<ParseOptions['include']> {
  const paths = Object.keys(files).map((p) => posix.normalize(p));
  const texts = new Map(Object.entries(files).map(([p, t]) => [posix.normalize(p), t]));
  return (pattern, from) => {
    const words = pattern.trim();
    if (words === '') throw new KeepalivedSyntaxError(from, 'include: names no file');
    const out: { file: string; text: string }[] = [];
    for (const alternative of expandBraces(words)) {
      const full = includePattern(alternative, from);
      if (!hasWildcard(alternative)) {
        const text = texts.get(full);
        if (text === undefined) {
          throw new KeepalivedSyntaxError(from, `include ${words}: ${full} was not sent with the import (fulcrumctl sends every file the includes name; through the API, list it in "files")`);
        }
        out.push({ file: full, text });
        continue;
      }
      const matched = paths.filter((p) => globMatches(full, p)).sort();
      if (matched.length === 0) warn({ at: from, message: `include ${words}: no file matched ${full}; nothing included` });
      for (const p of matched) out.push({ file: p, text: texts.get(p) ?? '' });
    }
    return out;
  };
}
