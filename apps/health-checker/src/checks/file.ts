import { open } from 'node:fs/promises';
import type { CheckResult, ProbeContext } from './types.js';

export interface FileCheckSpec {
  /** The tracked file (keepalived's track_file `file`). */
  path: string;
  /** Multiplier for the value read (keepalived's weight); default 1. */
  weight?: number;
  /** keepalived's `reverse`: the multiplier's sign is flipped (and, with weight 0, zero means down). */
  reverse?: boolean;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const READ_BYTES = 127; // keepalived reads at most this much of the file

/**
 * keepalived's FILE_CHECK, read once per probe. The file holds a number (C `strtol` syntax:
 * decimal, 0x hex, 0 octal, trailing text ignored); a missing or empty file reads as 0.
 * - weight 0: a non-zero value is down, 0 is up (`reverse` swaps the two);
 * - otherwise value x weight (negated with `reverse`) is added to the real server's weight, and a
 *   product at or below -2^31 is down.
 * Unlike keepalived, which ignores a value it cannot read, text that holds no number or a value
 * out of 32-bit range is down with reason 'file', so a broken file is noticed.
 */
export async function fileCheck(spec: FileCheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  const now = ctx?.now ?? (() => performance.now());
  const started = now();
  const latency = (): number => Math.max(0, now() - started);
  const down = (message: string): CheckResult => ({ ok: false, reason: 'file', message, latencyMs: latency() });
  if (ctx?.signal?.aborted) return { ok: false, reason: 'aborted', message: 'cancelled before it started', latencyMs: 0 };

  let text: string;
  try {
    text = await readHead(spec.path);
  } catch (err) {
    return down(`cannot read ${spec.path}: ${(err as Error).message}`);
  }
  const value = text.trim() === '' ? 0 : parseCLong(text);
  if (value === null) return down(`${spec.path} holds ${JSON.stringify(text.slice(0, 40))}, not a number`);
  if (value < INT32_MIN || value > INT32_MAX + 1) return down(`${spec.path} holds ${value}, outside the 32-bit range`);

  const weight = spec.weight ?? 1;
  if (weight === 0) {
    const failed = (value !== 0) !== (spec.reverse === true);
    if (failed) {
      const why = spec.reverse ? 'with weight 0 reverse, zero means down' : 'with weight 0, non-zero means down';
      return down(`${spec.path} holds ${value} (${why})`);
    }
    return { ok: true, latencyMs: latency() };
  }
  const product = value * weight * (spec.reverse ? -1 : 1);
  if (product <= INT32_MIN) return down(`${spec.path} holds ${value}: x ${weight}${spec.reverse ? ' reversed' : ''} = ${product}, the fault level`);
  return { ok: true, latencyMs: latency(), weightDelta: Math.min(product, INT32_MAX) };
}

async function readHead(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
  try {
    const buf = Buffer.alloc(READ_BYTES);
    const { bytesRead } = await handle.read(buf, 0, READ_BYTES, 0);
    return buf.toString('latin1', 0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** C strtol(s, NULL, 0): leading space, sign, 0x/0 prefixes, stops at the first non-digit. Null if no digit. */
export function parseCLong(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(s);
  if (!m) return null;
  const digits = m[2] as string;
  let n: number;
  if (/^0[xX]/.test(digits)) n = parseInt(digits.slice(2), 16);
  else if (digits.length > 1 && digits.startsWith('0')) n = parseInt(digits, 8);
  else n = parseInt(digits, 10);
  return m[1] === '-' ? -n : n;
}
