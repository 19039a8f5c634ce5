// Netlink attributes (struct nlattr): a 4-byte header (u16 length incl. header, u16 type) and the
// payload padded to 4 bytes. Host byte order is little-endian on every platform we ship for (x86-64,
// arm64), so "native" integers are written little-endian and network-order ones big-endian.

const ALIGN = 4;
const HEADER = 4;
const pad = (n: number): number => (n + ALIGN - 1) & ~(ALIGN - 1);

/** Builds a stream of attributes; nested() writes a container whose length is fixed on close. */
export class AttrWriter {
  private parts: Buffer[] = [];
  private size = 0;

  private put(type: number, payload: Buffer): this {
    const header = Buffer.alloc(HEADER);
    header.writeUInt16LE(HEADER + payload.length, 0);
    header.writeUInt16LE(type, 2);
    this.parts.push(header, payload);
    this.size += HEADER + payload.length;
    const padding = pad(payload.length) - payload.length;
    if (padding > 0) {
      this.parts.push(Buffer.alloc(padding));
      this.size += padding;
    }
    return this;
  }

  u8(type: number, value: number): this {
    const b = Buffer.alloc(1);
    b.writeUInt8(value);
    return this.put(type, b);
  }
  u16(type: number, value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(value);
    return this.put(type, b);
  }
  u16be(type: number, value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(value);
    return this.put(type, b);
  }
  u32(type: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    return this.put(type, b);
  }
  u32be(type: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value >>> 0);
    return this.put(type, b);
  }
  u64(type: number, value: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(value);
    return this.put(type, b);
  }
  bytes(type: number, value: Buffer): this {
    return this.put(type, value);
  }
  /** A NUL-terminated string (NLA_NUL_STRING / NLA_STRING as the kernel expects from libnl). */
  string(type: number, value: string): this {
    return this.put(type, Buffer.concat([Buffer.from(value, 'utf8'), Buffer.alloc(1)]));
  }
  nested(type: number, build: (w: AttrWriter) => void): this {
    const inner = new AttrWriter();
    build(inner);
    return this.put(type, inner.toBuffer());
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}

export class AttrParseError extends Error {
  override name = 'AttrParseError';
}

/** Splits an attribute stream into type -> payload (the nested flag and byte-order flag are masked off). */
export function parseAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + HEADER <= buf.length) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & 0x3fff;
    if (len < HEADER || off + len > buf.length) {
      throw new AttrParseError(`attribute at offset ${off} has length ${len}, stream has ${buf.length - off} bytes left`);
    }
    out.set(type, buf.subarray(off + HEADER, off + len));
    off += pad(len);
  }
  return out;
}

/** Typed readers that name the attribute when it is missing or short. */
export class Attrs {
  constructor(
    private readonly map: Map<number, Buffer>,
    private readonly what: string,
  ) {}
  static parse(buf: Buffer, what: string): Attrs {
    return new Attrs(parseAttrs(buf), what);
  }
  has(type: number): boolean {
    return this.map.has(type);
  }
  raw(type: number): Buffer | undefined {
    return this.map.get(type);
  }
  private need(type: number, size: number, name: string): Buffer {
    const b = this.map.get(type);
    if (!b) throw new AttrParseError(`${this.what}: attribute ${name} (${type}) missing`);
    if (b.length < size) throw new AttrParseError(`${this.what}: attribute ${name} (${type}) has ${b.length} bytes, need ${size}`);
    return b;
  }
  u8(type: number, name: string): number {
    return this.need(type, 1, name).readUInt8(0);
  }
  u16(type: number, name: string): number {
    return this.need(type, 2, name).readUInt16LE(0);
  }
  u16be(type: number, name: string): number {
    return this.need(type, 2, name).readUInt16BE(0);
  }
  u32(type: number, name: string): number {
    return this.need(type, 4, name).readUInt32LE(0);
  }
  u32be(type: number, name: string): number {
    return this.need(type, 4, name).readUInt32BE(0);
  }
  u64(type: number, name: string): bigint {
    return this.need(type, 8, name).readBigUInt64LE(0);
  }
  bytes(type: number, name: string, size: number): Buffer {
    return this.need(type, size, name);
  }
  string(type: number, name: string): string {
    const b = this.need(type, 0, name);
    const nul = b.indexOf(0);
    return b.toString('utf8', 0, nul === -1 ? b.length : nul);
  }
  /** The raw payload of a required attribute (e.g. a nested container to hand to another decoder). */
  payload(type: number, name: string): Buffer {
    return this.need(type, 0, name);
  }
  nested(type: number, name: string): Attrs {
    return new Attrs(parseAttrs(this.need(type, 0, name)), `${this.what}.${name}`);
  }
}
