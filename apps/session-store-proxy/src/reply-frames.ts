// The few changes the proxy makes to upstream reply frames. The upstream links speak RESP2 (one shared link
// serves clients of both protocols), so a client that said HELLO 3 gets RESP3 made here: nulls become `_`
// and field/value lists (HGETALL) become maps. Everything else passes through as Redis sent it.
import { RespReplyError, frameEnd } from './reply-scanner.js';

const NULL3 = Buffer.from('_\r\n');
const ONE = Buffer.from(':1\r\n');
const ZERO = Buffer.from(':0\r\n');

/** A RESP2 reply frame as RESP3: nulls as `_`, and the top-level array as a map when `map`. */
export function toResp3(frame: Buffer, map: boolean): Buffer {
  // Fast path: no null anywhere (a false hit inside a value only costs the walk below).
  if (!map && frame.indexOf('-1\r\n', 0, 'latin1') < 0) return frame;
  const out: Buffer[] = [];
  walk(frame, 0, map, out);
  return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
}

function walk(buf: Buffer, pos: number, map: boolean, out: Buffer[]): number {
  const lineEnd = buf.indexOf(13, pos);
  if (lineEnd < 0) throw new RespReplyError('incomplete reply');
  const type = buf[pos];
  const next = lineEnd + 2;
  if (type === 0x24 /* $ */) {
    const n = Number(buf.toString('latin1', pos + 1, lineEnd));
    if (n < 0) {
      out.push(NULL3);
      return next;
    }
    out.push(buf.subarray(pos, next + n + 2));
    return next + n + 2;
  }
  if (type === 0x2a /* * */) {
    const n = Number(buf.toString('latin1', pos + 1, lineEnd));
    if (n < 0) {
      out.push(NULL3);
      return next;
    }
    out.push(map && n % 2 === 0 ? Buffer.from(`%${n / 2}\r\n`, 'latin1') : buf.subarray(pos, next));
    let p = next;
    for (let i = 0; i < n; i++) p = walk(buf, p, false, out);
    return p;
  }
  out.push(buf.subarray(pos, next));
  return next;
}

/** SETNX runs upstream as SET NX: +OK means it was set (1), a null bulk that it was not (0); errors pass. */
export function setnxReply(frame: Buffer): Buffer {
  if (frame[0] === 0x2b) return ONE;
  if (frame[0] === 0x24) return ZERO;
  return frame;
}

/** The elements of a complete top-level array frame, or null for a null array. */
export function arrayElements(frame: Buffer): Buffer[] | null {
  const lineEnd = frame.indexOf(13);
  if (frame[0] !== 0x2a || lineEnd < 0) throw new RespReplyError('not an array reply');
  const n = Number(frame.toString('latin1', 1, lineEnd));
  if (n < 0) return null;
  const items: Buffer[] = [];
  let p = lineEnd + 2;
  for (let i = 0; i < n; i++) {
    const end = frameEnd(frame, p);
    items.push(frame.subarray(p, end));
    p = end;
  }
  return items;
}

/** Reads an integer reply (`:n`), or null when the frame is something else. */
export function integerReply(buf: Buffer, start: number, end: number): number | null {
  if (buf[start] !== 0x3a) return null;
  const n = Number(buf.toString('latin1', start + 1, end - 2));
  return Number.isInteger(n) ? n : null;
}
