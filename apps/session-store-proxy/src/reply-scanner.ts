// Splits the upstream reply stream at RESP frame boundaries without decoding it: the proxy forwards most replies
// as the bytes Redis sent. Incremental (a frame may arrive in any number of chunks, and a long bulk is joined once,
// when all of it is here) and strict: anything that is not RESP2/RESP3 is a RespReplyError, after which the
// connection is unusable (the caller closes it).

export class RespReplyError extends Error {
  override name = 'RespReplyError';
}

export interface ScannerLimits {
  /** Deepest nesting of aggregates. */
  maxDepth: number;
  /** Longest bulk payload (bytes). */
  maxBulkBytes: number;
  /** Longest line (simple string, error, header) before its CRLF. */
  maxLineBytes: number;
}

export const DEFAULT_SCANNER_LIMITS: ScannerLimits = { maxDepth: 128, maxBulkBytes: 512 * 1024 * 1024, maxLineBytes: 1024 * 1024 };

/** Receives one complete top-level frame: buf[start, end). The buffer is never written again. */
export type FrameSink = (buf: Buffer, start: number, end: number) => void;

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);

export class ReplyScanner {
  private buf: Buffer = EMPTY;
  /** Start of the frame being scanned. */
  private start = 0;
  /** Scan position inside buf. */
  private pos = 0;
  /** Elements still expected by each open aggregate, innermost last. */
  private readonly stack: number[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes needed in buf beyond pos before scanning can make progress. */
  private need = 1;
  private failed: RespReplyError | null = null;

  constructor(private readonly limits: ScannerLimits = DEFAULT_SCANNER_LIMITS) {}

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.buf.length - this.start + this.pendingBytes;
  }

  /** Feeds a chunk and calls `sink` for every frame it completes, in order. Throws RespReplyError on bad input. */
  feed(chunk: Buffer, sink: FrameSink): void {
    if (this.failed) throw this.failed;
    if (this.buf.length - this.pos + this.pendingBytes + chunk.length < this.need) {
      // Waiting for the rest of a long bulk: keep the chunks apart, join them once.
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return;
    }
    if (this.start === this.buf.length && this.pendingBytes === 0) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      const parts = [this.buf.subarray(this.start), ...this.pending, chunk];
      this.pos -= this.start;
      this.buf = Buffer.concat(parts);
      this.pending = [];
      this.pendingBytes = 0;
    }
    this.start = 0;
    try {
      this.scan(sink);
    } catch (e) {
      if (e instanceof RespReplyError) this.failed = e;
      throw e;
    }
  }

  private scan(sink: FrameSink): void {
    const buf = this.buf;
    const len = buf.length;
    const stack = this.stack;
    for (;;) {
      if (this.pos >= len) {
        this.need = 1;
        break;
      }
      const lineEnd = buf.indexOf(CR, this.pos + 1);
      if (lineEnd < 0 || lineEnd + 1 >= len) {
        if (len - this.pos > this.limits.maxLineBytes) throw new RespReplyError(`reply line longer than ${this.limits.maxLineBytes} bytes`);
        this.need = len - this.pos + 1;
        break;
      }
      if (buf[lineEnd + 1] !== LF) throw new RespReplyError('reply line not terminated by CRLF');
      if (lineEnd - this.pos > this.limits.maxLineBytes) throw new RespReplyError(`reply line longer than ${this.limits.maxLineBytes} bytes`);
      const type = buf[this.pos] as number;
      let next = lineEnd + 2;
      let open = 0; // elements of an aggregate that starts here
      switch (type) {
        case 0x2b: // + simple string
        case 0x2d: // - error
        case 0x3a: // : integer
        case 0x2c: // , double
        case 0x28: // ( big number
        case 0x23: // # boolean
        case 0x5f: // _ null
          break;
        case 0x24: // $ bulk string
        case 0x21: // ! bulk error
        case 0x3d: {
          // = verbatim string
          const n = parseLength(buf, this.pos + 1, lineEnd, type === 0x24);
          if (n >= 0) {
            if (n > this.limits.maxBulkBytes) throw new RespReplyError(`bulk reply of ${n} bytes, at most ${this.limits.maxBulkBytes}`);
            if (len - next < n + 2) {
              this.need = next + n + 2 - this.pos;
              return;
            }
            if (buf[next + n] !== CR || buf[next + n + 1] !== LF) throw new RespReplyError('bulk reply not followed by CRLF');
            next += n + 2;
          }
          break;
        }
        case 0x2a: // * array
        case 0x7e: // ~ set
        case 0x3e: {
          // > push
          const n = parseLength(buf, this.pos + 1, lineEnd, type === 0x2a);
          open = n < 0 ? 0 : n;
          break;
        }
        case 0x25: // % map
          open = 2 * parseLength(buf, this.pos + 1, lineEnd, false);
          break;
        case 0x7c: // | attribute: its pairs, then the value they describe
          open = 2 * parseLength(buf, this.pos + 1, lineEnd, false) + 1;
          break;
        default:
          throw new RespReplyError(`unexpected reply type byte 0x${type.toString(16).padStart(2, '0')}`);
      }
      this.pos = next;
      if (open > 0) {
        if (stack.length >= this.limits.maxDepth) throw new RespReplyError(`reply nested deeper than ${this.limits.maxDepth}`);
        stack.push(open);
        continue;
      }
      // One element done: close every aggregate it completes.
      while (stack.length > 0) {
        const top = stack.length - 1;
        const left = (stack[top] as number) - 1;
        if (left > 0) {
          stack[top] = left;
          break;
        }
        stack.pop();
      }
      if (stack.length === 0) {
        const from = this.start;
        this.start = this.pos;
        sink(buf, from, this.pos);
      }
    }
  }
}

/** A length or count between a type byte and CR; -1 only where RESP2 allows it (null bulk, null array). */
function parseLength(buf: Buffer, from: number, to: number, nullable: boolean): number {
  let i = from;
  let negative = false;
  if (buf[i] === 0x2d) {
    negative = true;
    i++;
  }
  if (i === to || to - i > 15) throw new RespReplyError(`invalid length in reply header '${buf.toString('latin1', from - 1, Math.min(to, from + 20))}'`);
  let n = 0;
  for (; i < to; i++) {
    const d = (buf[i] as number) - 48;
    if (d < 0 || d > 9) throw new RespReplyError(`invalid length in reply header '${buf.toString('latin1', from - 1, Math.min(to, from + 20))}'`);
    n = n * 10 + d;
  }
  if (negative) {
    if (n === 1 && nullable) return -1;
    throw new RespReplyError(`negative length in reply header '${buf.toString('latin1', from - 1, to)}'`);
  }
  return n;
}

/** End of the frame that starts at `pos` in a buffer known to hold complete frames (for splitting EXEC results). */
export function frameEnd(buf: Buffer, pos: number): number {
  const scanner = new ReplyScanner();
  let end = -1;
  scanner.feed(buf.subarray(pos), (_, __, e) => {
    if (end < 0) end = e;
  });
  if (end < 0) throw new RespReplyError('incomplete reply');
  return pos + end;
}
