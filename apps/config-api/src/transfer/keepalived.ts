import { KeepalivedImportError, KeepalivedSyntaxError, importKeepalivedConf, printKeepalivedConf } from '@fulcrum/formats';
import { type DesiredObject, REDACTED, checkContract, desiredKey, desiredObject, isSlug } from '@fulcrum/schemas';
import { ValidationError } from '../api/errors.js';

// keepalived.conf through the API: the file comes in the request body, with the files its includes name
// (sent by fulcrumctl from the operator's machine; this host's disk is never read), and errors become 400s
// naming file:line:column. A file is one director's view of the pair: what is per host in it is merged
// into what the other directors' files already stored (mergeDirectorView).

export interface ImportWarning {
  /** Set when the import named its files (includes): the file the line is in. */
  file?: string;
  line?: number;
  column?: number;
  message: string;
}

/** `file` names the main text (relative includes start from its directory); `files` are those its includes may name. */
export function importKeepalived(text: string, opts: { host: string; file?: string; files?: Readonly<Record<string, string>> }) {
  const named = opts.file !== undefined;
  try {
    const { objects, warnings } = importKeepalivedConf(text, { host: opts.host, ...(named ? { file: opts.file } : {}), ...(opts.files ? { files: opts.files } : {}) });
    return {
      objects,
      warnings: warnings.map((w): ImportWarning => ({ ...(w.file === '' ? {} : { file: w.file }), line: w.line, column: w.column, message: w.message })),
    };
  } catch (err) {
    if (err instanceof KeepalivedSyntaxError || err instanceof KeepalivedImportError) {
      const where = err.at.file === '' ? '' : `${err.at.file} `;
      throw new ValidationError([{ path: `${where}line ${err.at.line}:${err.at.column}`, message: err.detail }]);
    }
    throw err;
  }
}

export const exportKeepalived = (objects: readonly DesiredObject[], opts: { host: string }): string => printKeepalivedConf(objects, opts);

/** Fields of a VRRP instance that each director's file gives for itself; the rest must agree between files. */
const PER_HOST = new Set(['priorities', 'unicastPeers', 'description']);

const unique = <T>(items: readonly T[]): T[] => [...new Set(items)];

/**
 * Merges one director's imported objects into the stored ones instead of replacing them, so that importing
 * director2's file after director1's gives one VRRP instance with both priorities:
 * - a VRRP instance keeps the other hosts' priorities and gains this file's; its unicast peers are the union (each
 *   director's file lists the others); any other field that differs from the stored instance is taken from this
 *   file, with a warning (the directors' files disagree);
 * - a host keeps what is stored (description, address, roles) and gains the file's role.
 * Virtual services are the same on every director: the file's replace the stored ones.
 */
export function mergeDirectorView(
  objects: readonly Record<string, unknown>[],
  stored: (key: string) => DesiredObject | undefined,
  host: string,
): { objects: Record<string, unknown>[]; warnings: ImportWarning[] } {
  const warnings: ImportWarning[] = [];
  const merged = objects.map((o) => {
    const id = String(o.kind === 'host' ? o.name : o.id);
    if (!isSlug(id)) return o;
    if (o.kind === 'host') {
      const before = stored(desiredKey('host', id));
      if (before?.kind !== 'host') return o;
      const roles = Array.isArray(o.roles) ? (o.roles as unknown[]) : [];
      return { ...before, roles: unique([...before.roles, ...roles]) };
    }
    if (o.kind !== 'vrrp-instance') return o;
    const before = stored(desiredKey('vrrp-instance', id));
    if (before?.kind !== 'vrrp-instance') return o;
    const priorities = { ...before.priorities, ...(o.priorities as Record<string, unknown> | undefined) };
    const peers = Array.isArray(o.unicastPeers) ? (o.unicastPeers as unknown[]) : [];
    const next: Record<string, unknown> = { ...o, priorities, unicastPeers: unique([...before.unicastPeers, ...peers]) };
    if (before.description !== undefined && next.description === undefined) next.description = before.description;
    const parsed = checkContract(desiredObject, next);
    if (parsed.ok && parsed.value.kind === 'vrrp-instance') {
      const after: Record<string, unknown> = parsed.value;
      const was: Record<string, unknown> = before;
      for (const field of unique([...Object.keys(was), ...Object.keys(after)])) {
        if (PER_HOST.has(field) || JSON.stringify(was[field]) === JSON.stringify(after[field])) continue;
        if (field === 'authentication') {
          // An exported file carries [redacted], which keeps the stored password: not a disagreement.
          if (parsed.value.authentication?.password === REDACTED) continue;
          warnings.push({ message: `vrrp-instance ${id}: the authentication in ${host}'s file differs from the stored one; ${host}'s replaces it` });
          continue;
        }
        warnings.push({
          message: `vrrp-instance ${id}: ${field} is ${JSON.stringify(after[field])} in ${host}'s file but ${JSON.stringify(was[field])} in the stored instance (from the other directors' files); ${host}'s value replaces it`,
        });
      }
    }
    return next;
  });
  return { objects: merged, warnings };
}
