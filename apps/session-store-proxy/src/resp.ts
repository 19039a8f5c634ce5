// RESP request parsing and reply encoding. The parser is incremental (a command may arrive in many chunks) and
// bounded: a bulk longer than the limit is refused from its header alone, so it is never buffered.

export class RespProtocolError extends Error {
  override name = 'RespProtocolError';
}

export interface ParserLimits {
  /** Largest bulk string accepted (bytes). */
  maxBulkBytes: number;
  /** Most arguments in one command. */
  maxArgs: number;
  /** Longest header or inline command line (bytes) before a CRLF must appear. */
  maxLineBytes: number;
}

export const DEFAULT_LIMITS: ParserLimits = { maxBulkBytes: 512 * 1024, maxArgs: 4096, maxLineBytes: 64 * 1024 };

const CR = 13;
const LF = 10;

/**
 * A parsed command. `raw` is the command exactly as the client sent it (a view of the read chunk), when it arrived
 * whole in one chunk as a multibulk: the proxy can forward those bytes instead of encoding the arguments again.
 */
export type ParsedCommand = Buffer[] & { raw?: Buffer };

/**
 * Turns a byte stream into commands (arrays of binary-safe arguments). Requests are flat arrays of bulk strings,
 * as Redis itself accepts; a nested array is refused at once, whatever its depth. Inline commands (`PING\r\n`)
 * are accepted for telnet-style use.
 */
export class RequestParser {
  private buf: Buffer = Buffer.alloc(0);
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes needed in `buf` before parsing can make progress. */
  private need = 1;
  private pos = 0;
  private args: ParsedCommand | null = null;
  private expected = 0;
  /** Where the command being parsed starts, and in which buffer (another buffer: it spans chunks, no raw view). */
  private cmdStart = 0;
  private cmdBuf: Buffer | null = null;

  constructor(private readonly limits: ParserLimits = DEFAULT_LIMITS) {}

  /** True while a command is partly received (for the partial-frame timeout). */
  get partial(): boolean {
    return this.args !== null || this.buf.length - this.pos + this.pendingBytes > 0;
  }

  /** Feeds a chunk; returns the commands it completed. Throws RespProtocolError on bad input. */
  feed(chunk: Buffer): ParsedCommand[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const available = this.buf.length - this.pos + this.pendingBytes;
    if (available < this.need) {
      // Waiting for a long bulk: keep the chunks apart and join them once, not on every chunk.
      return [];
    }
    // The common case (every earlier byte consumed, one new chunk) needs no copy.
    this.buf = this.pos === this.buf.length && this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat([this.buf.subarray(this.pos), ...this.pending]);
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
    const out: ParsedCommand[] = [];
    for (;;) {
      const cmd = this.next();
      if (cmd === undefined) break;
      if (cmd.length > 0) out.push(cmd);
    }
    return out;
  }

  /** One command, or undefined when more bytes are needed. */
  private next(): ParsedCommand | undefined {
    const buf = this.buf;
    if (this.args === null) {
      if (this.pos >= buf.length) return this.wait(1);
      if (buf[this.pos] !== 0x2a /* '*' */) return this.inline();
      this.cmdStart = this.pos;
      this.cmdBuf = buf;
      const line = this.line();
      if (line === undefined) return undefined;
      const n = parseLength(line, 1, 'multibulk length');
      if (n > this.limits.maxArgs) throw new RespProtocolError(`invalid multibulk length: ${n} arguments, at most ${this.limits.maxArgs}`);
      if (n <= 0) {
        if (n < -1) throw new RespProtocolError('invalid multibulk length: negative');
        return [];
      }
      this.args = [];
      this.expected = n;
    }
    while (this.args.length < this.expected) {
      if (this.pos >= buf.length) return this.wait(1);
      const type = buf[this.pos];
      if (type !== 0x24 /* '$' */) {
        const got = type === 0x2a ? "'*' (nested arrays are not accepted)" : `'${String.fromCharCode(type ?? 0)}'`;
        throw new RespProtocolError(`expected '$', got ${got}`);
      }
      const start = this.pos;
      const line = this.line();
      if (line === undefined) return undefined;
      const len = parseLength(line, 1, 'bulk length');
      if (len < 0) throw new RespProtocolError('invalid bulk length: negative');
      if (len > this.limits.maxBulkBytes) {
        throw new RespProtocolError(`invalid bulk length: ${len} bytes, at most ${this.limits.maxBulkBytes}`);
      }
      if (buf.length - this.pos < len + 2) {
        this.pos = start; // re-read the header once the whole bulk is here
        return this.wait(line.length + 2 + len + 2);
      }
      if (buf[this.pos + len] !== CR || buf[this.pos + len + 1] !== LF) throw new RespProtocolError('bulk string not followed by CRLF');
      this.args.push(buf.subarray(this.pos, this.pos + len));
      this.pos += len + 2;
    }
    const done = this.args;
    if (this.cmdBuf === buf) done.raw = buf.subarray(this.cmdStart, this.pos);
    this.args = null;
    this.cmdBuf = null;
    this.need = 1;
    return done;
  }

  private inline(): Buffer[] | undefined {
    const line = this.line();
    if (line === undefined) return undefined;
    const parts = line.toString('latin1').split(/[ \t]+/).filter((s) => s.length > 0);
    if (parts.length > this.limits.maxArgs) throw new RespProtocolError('too many arguments in inline command');
    this.need = 1;
    return parts.map((p) => Buffer.from(p, 'latin1'));
  }

  /** The next CRLF-terminated line (without CRLF), or undefined when it has not all arrived. */
  private line(): Buffer | undefined {
    const buf = this.buf;
    let end = buf.indexOf(CR, this.pos);
    while (end >= 0 && end + 1 < buf.length && buf[end + 1] !== LF) end = buf.indexOf(CR, end + 1);
    if (end + 1 >= buf.length) end = -1; // a CR at the very end: its LF has not arrived
    if (end < 0) {
      if (this.buf.length - this.pos > this.limits.maxLineBytes) throw new RespProtocolError('line too long without CRLF');
      this.wait(this.buf.length - this.pos + 1);
      return undefined;
    }
    if (end - this.pos > this.limits.maxLineBytes) throw new RespProtocolError('line too long');
    const line = this.buf.subarray(this.pos, end);
    this.pos = end + 2;
    return line;
  }

  private wait(bytes: number): undefined {
    this.need = bytes;
    return undefined;
  }
}

function parseLength(line: Buffer, from: number, what: string): number {
  let i = from;
  const negative = line[i] === 0x2d;
  if (negative) i++;
  let n = 0;
  const digits = line.length - i;
  for (; i < line.length; i++) {
    const d = (line[i] as number) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  if (i !== line.length || digits < 1 || digits > 18) throw new RespProtocolError(`invalid ${what}: '${line.toString('latin1', from, from + 20)}'`);
  return negative ? -n : n;
}

// ---- replies ----

export type Protocol = 2 | 3;

/** A reply to encode. Buffers and strings are bulk strings; `status` and `error` are simple strings. */
export type Reply =
  | null
  | number
  | bigint
  | Buffer
  | string
  | Reply[]
  | { status: string }
  | { error: string }
  | { map: [Reply, Reply][] };

const CRLF = '\r\n';

export function encode(reply: Reply, proto: Protocol): Buffer {
  const parts: (string | Buffer)[] = [];
  write(reply, proto, parts);
  return parts.length === 1 && Buffer.isBuffer(parts[0]) ? parts[0] : Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}

function write(r: Reply, proto: Protocol, out: (string | Buffer)[]): void {
  if (r === null) {
    out.push(proto === 3 ? `_${CRLF}` : `$-1${CRLF}`);
  } else if (typeof r === 'number' || typeof r === 'bigint') {
    out.push(`:${r}${CRLF}`);
  } else if (typeof r === 'string') {
    out.push(`$${Buffer.byteLength(r)}${CRLF}${r}${CRLF}`);
  } else if (Buffer.isBuffer(r)) {
    out.push(`$${r.length}${CRLF}`, r, CRLF);
  } else if (Array.isArray(r)) {
    out.push(`*${r.length}${CRLF}`);
    for (const item of r) write(item, proto, out);
  } else if ('status' in r) {
    out.push(`+${oneLine(r.status)}${CRLF}`);
  } else if ('error' in r) {
    out.push(`-${oneLine(r.error)}${CRLF}`);
  } else {
    out.push(proto === 3 ? `%${r.map.length}${CRLF}` : `*${r.map.length * 2}${CRLF}`);
    for (const [k, v] of r.map) {
      write(k, proto, out);
      write(v, proto, out);
    }
  }
}

/** Simple strings cannot hold CR or LF; an upstream message with them would break the framing. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

export const OK: Reply = { status: 'OK' };
export const err = (message: string): Reply => ({ error: message });
