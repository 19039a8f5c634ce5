/** The query types keepalived's DNS_CHECK offers. */
export const DNS_TYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 } as const;
export type DnsType = keyof typeof DNS_TYPES;

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
export const rcodeName = (rcode: number): string => RCODES[rcode] ?? `RCODE${rcode}`;

/** A standard recursive query for one name and type, class IN. */
export function encodeQuery(id: number, name: string, type: DnsType): Buffer {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  let size = 12 + 1 + 4;
  for (const label of labels) {
    if (label.length === 0 || label.length > 63) throw new Error(`DNS name ${JSON.stringify(name)}: each label must be 1-63 characters`);
    if (!/^[\x21-\x7e]+$/.test(label)) throw new Error(`DNS name ${JSON.stringify(name)}: only printable ASCII is allowed`);
    size += 1 + label.length;
  }
  if (size - 16 > 255) throw new Error(`DNS name ${JSON.stringify(name)} is longer than 255 bytes`);
  const buf = Buffer.alloc(size);
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(0x0100, 2); // RD
  buf.writeUInt16BE(1, 4); // QDCOUNT
  let off = 12;
  for (const label of labels) {
    buf[off] = label.length;
    buf.write(label, off + 1, 'ascii');
    off += 1 + label.length;
  }
  buf[off] = 0;
  buf.writeUInt16BE(DNS_TYPES[type], off + 1);
  buf.writeUInt16BE(1, off + 3); // IN
  return buf;
}

export type DnsVerdict =
  | { kind: 'ignore' } // not a reply to this query (stray or stale id)
  | { kind: 'answer'; count: number }
  | { kind: 'rcode'; rcode: number }
  | { kind: 'malformed'; why: string };

/**
 * Reads a reply defensively: the header, then our question echoed back (so a stray packet
 * with a guessed id is not taken as an answer). Answers themselves are only counted.
 */
export function checkReply(msg: Buffer, query: Buffer): DnsVerdict {
  if (msg.length < 12) return { kind: 'malformed', why: `reply of ${msg.length} bytes is shorter than a DNS header` };
  if (msg.readUInt16BE(0) !== query.readUInt16BE(0)) return { kind: 'ignore' };
  const flags = msg.readUInt16BE(2);
  if ((flags & 0x8000) === 0) return { kind: 'malformed', why: 'QR bit not set: a query, not a reply' };
  if (flags & 0x0200) return { kind: 'malformed', why: 'reply truncated (TC bit)' };
  const rcode = flags & 0x000f;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  if (qd !== 1) return rcode !== 0 ? { kind: 'rcode', rcode } : { kind: 'malformed', why: `${qd} questions in the reply, expected 1` };
  const question = query.subarray(12);
  const echoed = msg.subarray(12, 12 + question.length);
  if (!equalsIgnoreCase(echoed, question)) return { kind: 'malformed', why: 'the reply does not echo the question asked' };
  if (rcode !== 0) return { kind: 'rcode', rcode };
  return { kind: 'answer', count: an };
}

/** Names compare case-insensitively (RFC 4343); type and class bytes are not letters so this is exact for them. */
function equalsIgnoreCase(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y && (x | 0x20) !== (y | 0x20)) return false;
    if (x !== y && !((x | 0x20) >= 0x61 && (x | 0x20) <= 0x7a)) return false;
  }
  return true;
}
