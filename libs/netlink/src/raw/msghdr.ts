import koffi from 'koffi';

// struct msghdr for sendmsg/recvmsg, laid out by hand (x86-64 / aarch64 LP64) in Buffers whose
// addresses are written into it: V8 never moves a Buffer's memory, and each Msghdr keeps its
// Buffers referenced for as long as it lives, so a pool thread may use them during an async call.

const MSGHDR = 56;
const IOVEC = 16;
const CMSG_HEADER = 16;
const align8 = (n: number) => (n + 7) & ~7;

export interface Cmsg {
  readonly level: number;
  readonly type: number;
  readonly data: Buffer;
}

export class Msghdr {
  readonly hdr = Buffer.alloc(MSGHDR);
  private readonly iov = Buffer.alloc(IOVEC);

  /**
   * @param name the socket address buffer (source on receive, destination on send), or null
   * @param data the payload buffer
   * @param control room for ancillary data (receive) or the encoded ancillary data (send)
   */
  constructor(
    readonly name: Buffer | null,
    readonly data: Buffer,
    readonly control: Buffer | null,
  ) {
    this.iov.writeBigUInt64LE(koffi.address(data), 0);
    this.iov.writeBigUInt64LE(BigInt(data.length), 8);
    this.hdr.writeBigUInt64LE(name ? koffi.address(name) : 0n, 0);
    this.hdr.writeBigUInt64LE(koffi.address(this.iov), 16);
    this.hdr.writeBigUInt64LE(1n, 24);
    this.hdr.writeBigUInt64LE(control ? koffi.address(control) : 0n, 32);
    this.reset();
  }

  /** Lengths back to the buffers' sizes (recvmsg shrinks them to what it filled in). */
  reset(length = this.data.length): void {
    this.iov.writeBigUInt64LE(BigInt(length), 8);
    this.hdr.writeUInt32LE(this.name?.length ?? 0, 8);
    this.hdr.writeBigUInt64LE(BigInt(this.control?.length ?? 0), 40);
    this.hdr.writeInt32LE(0, 48);
  }

  get address(): bigint {
    return koffi.address(this.hdr);
  }

  /** msg_flags after recvmsg (MSG_TRUNC, MSG_CTRUNC). */
  get flags(): number {
    return this.hdr.readInt32LE(48);
  }

  /** The ancillary messages recvmsg filled in. */
  cmsgs(): Cmsg[] {
    const out: Cmsg[] = [];
    if (!this.control) return out;
    const total = Number(this.hdr.readBigUInt64LE(40));
    let at = 0;
    while (at + CMSG_HEADER <= total) {
      const len = Number(this.control.readBigUInt64LE(at));
      if (len < CMSG_HEADER || at + len > total) break;
      out.push({ level: this.control.readInt32LE(at + 8), type: this.control.readInt32LE(at + 12), data: this.control.subarray(at + CMSG_HEADER, at + len) });
      at += align8(len);
    }
    return out;
  }
}

/** Encodes ancillary messages for sendmsg. */
export function encodeCmsgs(cmsgs: readonly { level: number; type: number; data: Uint8Array }[]): Buffer {
  const out = Buffer.alloc(cmsgs.reduce((n, c) => n + align8(CMSG_HEADER + c.data.length), 0));
  let at = 0;
  for (const c of cmsgs) {
    out.writeBigUInt64LE(BigInt(CMSG_HEADER + c.data.length), at);
    out.writeInt32LE(c.level, at + 8);
    out.writeInt32LE(c.type, at + 12);
    out.set(c.data, at + CMSG_HEADER);
    at += align8(CMSG_HEADER + c.data.length);
  }
  return out;
}

/** A buffer room for `n` ancillary messages of up to `size` bytes of data each. */
export const cmsgSpace = (n: number, size: number): number => n * align8(CMSG_HEADER + size);
