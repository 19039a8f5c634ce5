import { readdirSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { KeepalivedSyntaxError, MAX_INCLUDED_FILES, expandBraces, globMatches, includePattern, parseKeepalivedConf } from '@fulcrum/formats';
import { UsageError } from '@fulcrum/runtime';

// `fulcrumctl import keepalived FILE` sends FILE with every file its includes name, read here on the
// operator's machine, as keepalived would read them (see libs/formats include.ts); config-api follows the
// includes among those files and never reads its own disk.

const hasWildcard = (s: string): boolean => /[*?[]/.test(s);

/** The regular files a brace-free absolute glob matches on this machine, sorted. */
export function globOnDisk(pattern: string): string[] {
  let dirs = ['/'];
  const parts = pattern.split('/').filter((p) => p !== '');
  for (const [i, part] of parts.entries()) {
    const next: string[] = [];
    for (const dir of dirs) {
      if (!hasWildcard(part)) {
        next.push(posix.join(dir, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue; // not a directory, or unreadable: matches nothing, as for glob(3)
      }
      for (const n of names.sort()) if (globMatches(part, n)) next.push(posix.join(dir, n));
    }
    dirs = i === parts.length - 1 ? next : next.filter(isDirectory);
  }
  return dirs.filter(isFile).sort();
}

const isDirectory = (p: string): boolean => statOf(p)?.isDirectory() ?? false;
const isFile = (p: string): boolean => statOf(p)?.isFile() ?? false;
function statOf(p: string) {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

/**
 * The files `text` (the contents of `file`, an absolute path) includes, directly or not: path -> text.
 * A file that cannot be read is left out (config-api then names the include that wanted it); a syntax
 * error stops the walk (config-api reports it with its line).
 */
export function includedFiles(file: string, text: string): Record<string, string> {
  const files: Record<string, string> = {};
  const read = (path: string): string | null => {
    if (path in files) return files[path] ?? '';
    if (Object.keys(files).length + 1 >= MAX_INCLUDED_FILES) {
      throw new UsageError(`${file} includes more than ${MAX_INCLUDED_FILES - 1} files; config-api takes at most that many in one import`);
    }
    try {
      files[path] = readFileSync(path, 'utf8');
      return files[path];
    } catch {
      return null;
    }
  };
  try {
    parseKeepalivedConf(text, {
      file,
      include: (pattern, from) =>
        expandBraces(pattern.trim()).flatMap((alternative) => {
          const full = includePattern(alternative, from);
          const paths = hasWildcard(alternative) ? globOnDisk(full) : [full];
          return paths.flatMap((p) => {
            const t = read(p);
            return t === null ? [] : [{ file: p, text: t }];
          });
        }),
    });
  } catch (err) {
    if (!(err instanceof KeepalivedSyntaxError)) throw err;
  }
  return files;
}
