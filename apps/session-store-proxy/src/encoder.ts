// Request encoding into large slabs: a command's bytes are a view of the slab (no allocation per command), and
// stay valid after they are written, so a command lost with its connection can be sent again as it was.

const SLAB_BYTES = 256 * 1024;
const CRLF_0 = 13;
const CRLF_1 = 10;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

const digits = (n: number) => (n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : String(n).length);

/** Encodes commands (arrays of binary-safe arguments) into one contiguous buffer. */
export function encodeCommands(commands: readonly (readonly Buffer[])[]): Buffer {
  let size = 0;
  for (const args of commands) {
    size += 3 + digits(args.length);
    for (const a of args) size += 5 + digits(a.length) + a.length;
  }
  if (SLAB_BYTES - used < size) {
    slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, size));
    used = 0;
  }
  const buf = slab;
  const start = used;
  let o = start;
  for (const args of commands) {
    buf[o++] = 0x2a; // '*'
    o = writeDecimal(buf, o, args.length);
    buf[o++] = CRLF_0;
    buf[o++] = CRLF_1;
    for (const a of args) {
      buf[o++] = 0x24; // '$'
      o = writeDecimal(buf, o, a.length);
      buf[o++] = CRLF_0;
      buf[o++] = CRLF_1;
      o += a.copy(buf, o);
      buf[o++] = CRLF_0;
      buf[o++] = CRLF_1;
    }
  }
  used = o;
  return buf.subarray(start, o);
}

function writeDecimal(buf: Buffer, at: number, n: number): number {
  if (n < 10) {
    buf[at] = 48 + n;
    return at + 1;
  }
  if (n < 100) {
    buf[at] = 48 + Math.floor(n / 10);
    buf[at + 1] = 48 + (n % 10);
    return at + 2;
  }
  return at + buf.write(String(n), at, 'latin1');
}

export const command = (...args: (string | Buffer)[]): Buffer[] => args.map((a) => (typeof a === 'string' ? Buffer.from(a, 'utf8') : a));

/**
 * Joins buffers for one write. Views that follow each other in the same memory (commands encoded one after another
 * into a slab, a client's pipelined replies in one upstream read) become one view instead of a copy.
 */
export function joinViews(bufs: readonly Buffer[]): Buffer {
  const first = bufs[0] as Buffer;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < bufs.length; i++) {
    const b = bufs[i] as Buffer;
    if (b.buffer !== first.buffer || b.byteOffset !== end) return Buffer.concat(bufs);
    end += b.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}
