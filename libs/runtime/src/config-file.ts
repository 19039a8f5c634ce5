import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import { ConfigError } from './errors.js';

export interface ConfigFile {
  readonly file: string;
  readonly data: Record<string, unknown>;
  /** `line N` of the key at `path` (or of its closest parent that is in the file); undefined if not there. */
  locate(path: readonly PropertyKey[], key?: string): string | undefined;
}

/** Reads a YAML or JSON config file (JSON is read as YAML 1.2, which it is a subset of). */
export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new ConfigError(file, [{ key: '', message: `cannot read the file: ${why}` }], { cause: err });
  }
  return parseConfigText(file, text);
}

export function parseConfigText(file: string, text: string): ConfigFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number) => `line ${lineCounter.linePos(offset).line}`;
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ key: '', source: lineOf(e.pos[0]), message: firstLine(e.message) })),
      { cause: doc.errors[0] },
    );
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) return { file, data: {}, locate: () => undefined };
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(file, [{ key: '', message: 'must be a mapping of keys to values (e.g. `log: {level: info}`)' }]);
  }

  function locate(path: readonly PropertyKey[], key?: string): string | undefined {
    // Walk down as far as the file goes, so a missing key points at its parent.
    for (let depth = path.length; depth >= 0; depth--) {
      const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
      if (node === undefined || node === null) continue;
      if (key !== undefined && depth === path.length && isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
        const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
        if (range) return lineOf(range[0]);
      }
      // The document itself is no useful place to point at.
      const range = depth > 0 ? (node as { range?: [number, number, number] }).range : undefined;
      if (range) return lineOf(range[0]);
    }
    return undefined;
  }
  return { file, data: data as Record<string, unknown>, locate };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
