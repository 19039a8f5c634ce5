import { KeepalivedImportError, KeepalivedSyntaxError, importKeepalivedConf, printKeepalivedConf } from '@fulcrum/formats';
import type { DesiredObject } from '@fulcrum/schemas';
import { ValidationError } from '../api/errors.js';

// keepalived.conf through the API: includes cannot be followed (the file comes in the request body), and errors
// become 400s naming line:column.

export function importKeepalived(text: string, opts: { host: string }) {
  try {
    const { objects, warnings } = importKeepalivedConf(text, { host: opts.host });
    return { objects, warnings: warnings.map((w) => ({ line: w.line, column: w.column, message: w.message })) };
  } catch (err) {
    if (err instanceof KeepalivedSyntaxError || err instanceof KeepalivedImportError) {
      throw new ValidationError([{ path: `line ${err.at.line}:${err.at.column}`, message: err.detail }]);
    }
    throw err;
  }
}

export const exportKeepalived = (objects: readonly DesiredObject[], opts: { host: string }): string => printKeepalivedConf(objects, opts);
