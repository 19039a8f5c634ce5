// Netlink attributes (struct nlattr): a 4-byte header (u16 length incl. header, u16 type) and the
// payload padded to 4 bytes. Host byte order is little-endian on every platform we ship for (x86-64,
// arm64), so "native" integers are written little-endian and network-order ones big-endian.

const ALIGN = 4;
const HEADER = 4;
const pad = (n: number): number => (n + ALIGN - 1) & ~(ALIGN - 1);

/**
 * Builds a stream of attributes in one growing buffer; nested() writes a container whose length is
 * patched in when its builder returns. (Loading 10,000 destinations encodes 10,000 messages: one
 * allocation per message, not one per attribute.)
 */
export class AttrWriter {
  private buf: Buffer = Buffer.alloc(128);
  private size = 0;

  private reserve(n: number): void {
    if (this.size + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.size + n));
    this.buf.copy(next, 0, 0, this.size);
    this.buf = next;
  }

  /**
   * Writes the header, returns the payload offset; the caller fills `len` bytes (buffer is zeroed).
   * It may replace this.buf, so callers take the offset first and only then touch this.buf.
   */
  private attr(type: number, len: number): number {
    this.reserve(HEADER + pad(len));
    const off = this.size;
    this.buf.writeUInt16LE(HEADER + len, off);
    this.buf.writeUInt16LE(type, off + 2);
    this.size = off + HEADER + pad(len);
    return off + HEADER;
  }

  u8(type: number, value: number): this {
    const at = this.attr(type, 1);
    this.buf.writeUInt8(value, at);
    return this;
  }
  u16(type: number, value: number): this {
    const at = this.attr(type, 2);
    this.buf.writeUInt16LE(value, at);
    return this;
  }
  u16be(type: number, value: number): this {
    const at = this.attr(type, 2);
    this.buf.writeUInt16BE(value, at);
    return this;
  }
  u32(type: number, value: number): this {
    const at = this.attr(type, 4);
    this.buf.writeUInt32LE(value >>> 0, at);
    return this;
  }
  u32be(type: number, value: number): this {
    const at = this.attr(type, 4);
    this.buf.writeUInt32BE(value >>> 0, at);
    return this;
  }
  u64(type: number, value: bigint): this {
    const at = this.attr(type, 8);
    this.buf.writeBigUInt64LE(value, at);
    return this;
  }
  bytes(type: number, value: Uint8Array): this {
    const at = this.attr(type, value.length);
    this.buf.set(value, at);
    return this;
  }
  /** `value` at the start of a zero-filled payload of `size` bytes (e.g. an IPv4 address in a 16-byte field). */
  padded(type: number, value: Uint8Array, size: number): this {
    const at = this.attr(type, size);
    this.buf.set(value.subarray(0, size), at);
    return this;
  }
  /** A NUL-terminated string (NLA_NUL_STRING / NLA_STRING as the kernel expects from libnl). */
  string(type: number, value: string): this {
    const len = Buffer.byteLength(value, 'utf8');
    const at = this.attr(type, len + 1);
    this.buf.write(value, at, 'utf8');
    return this;
  }
  nested(type: number, build: (w: AttrWriter) => void): this {
    this.reserve(HEADER);
    const start = this.size;
    this.size += HEADER;
    build(this);
    this.buf.writeUInt16LE(this.size - start, start);
    this.buf.writeUInt16LE(type, start + 2);
    return this;
  }
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.size));
  }
}

export class AttrParseError extends Error {
  override name = 'AttrParseError';
}

/** Splits an attribute stream into type -> payload (the nested flag and byte-order flag are masked off). */
export function parseAttrs(buf: Buffer): Map<number, Buffer> {
  const a = Attrs.parse(buf, 'attributes');
  const out = new Map<number, Buffer>();
  a.forEachType((type) => out.set(type, a.payload(type, String(type))));
  return out;
}

/**
 * Typed readers over one attribute stream that name the attribute when it is missing or short.
 * Offsets are kept per type and values read straight from the buffer: a 1,000-service dump decodes
 * tens of thousands of attributes, and a Buffer per attribute showed up in the lab's profile.
 */
export class Attrs {
  private readonly at: number[] = [];
  private readonly len: number[] = [];

  private constructor(
    private readonly buf: Buffer,
    /** What this stream is, for errors; a nested one names its parent too (built only on error). */
    private readonly name: string,
    private readonly parent: Attrs | null,
    start: number,
    end: number,
  ) {
    let off = start;
    while (off + HEADER <= end) {
      const l = buf.readUInt16LE(off);
      const type = buf.readUInt16LE(off + 2) & 0x3fff;
      if (l < HEADER || off + l > end) {
        throw new AttrParseError(`${this.what}: attribute at offset ${off - start} has length ${l}, stream has ${end - off} bytes left`);
      }
      this.at[type] = off + HEADER;
      this.len[type] = l - HEADER;
      off += pad(l);
    }
  }

  static parse(buf: Buffer, what: string, start = 0, end = buf.length): Attrs {
    return new Attrs(buf, what, null, start, end);
  }
  private get what(): string {
    return this.parent ? `${this.parent.what}.${this.name}` : this.name;
  }
  forEachType(fn: (type: number) => void): void {
    this.at.forEach((_, type) => fn(type));
  }
  has(type: number): boolean {
    return this.at[type] !== undefined;
  }
  private need(type: number, size: number, name: string): number {
    const off = this.at[type];
    if (off === undefined) throw new AttrParseError(`${this.what}: attribute ${name} (${type}) missing`);
    const l = this.len[type] as number;
    if (l < size) throw new AttrParseError(`${this.what}: attribute ${name} (${type}) has ${l} bytes, need ${size}`);
    return off;
  }
  u8(type: number, name: string): number {
    return this.buf.readUInt8(this.need(type, 1, name));
  }
  u16(type: number, name: string): number {
    return this.buf.readUInt16LE(this.need(type, 2, name));
  }
  u16be(type: number, name: string): number {
    return this.buf.readUInt16BE(this.need(type, 2, name));
  }
  u32(type: number, name: string): number {
    return this.buf.readUInt32LE(this.need(type, 4, name));
  }
  u32be(type: number, name: string): number {
    return this.buf.readUInt32BE(this.need(type, 4, name));
  }
  u64(type: number, name: string): bigint {
    return this.buf.readBigUInt64LE(this.need(type, 8, name));
  }
  /** An optional u32: 0 when absent. */
  u32Or0(type: number, name: string): number {
    return this.at[type] === undefined ? 0 : this.u32(type, name);
  }
  /** An optional u64: 0n when absent. */
  u64Or0(type: number, name: string): bigint {
    return this.at[type] === undefined ? 0n : this.u64(type, name);
  }
  /** An optional u32 widened to bigint: 0n when absent. */
  u32AsBigOr0(type: number, name: string): bigint {
    return this.at[type] === undefined ? 0n : BigInt(this.u32(type, name));
  }
  /** At least `size` bytes of the payload (a view, not a copy). */
  bytes(type: number, name: string, size: number): Buffer {
    const off = this.need(type, size, name);
    return this.buf.subarray(off, off + (this.len[type] as number));
  }
  string(type: number, name: string): string {
    const off = this.need(type, 0, name);
    const end = off + (this.len[type] as number);
    const nul = this.buf.indexOf(0, off);
    return this.buf.toString('utf8', off, nul === -1 || nul > end ? end : nul);
  }
  /** The raw payload of a required attribute (e.g. a nested container to hand to another decoder). */
  payload(type: number, name: string): Buffer {
    return this.bytes(type, name, 0);
  }
  nested(type: number, name: string): Attrs {
    const off = this.need(type, 0, name);
    return new Attrs(this.buf, name, this, off, off + (this.len[type] as number));
  }
}
