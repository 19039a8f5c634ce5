import { describe, expect, it } from 'vitest';
import { checkAdvert } from './check.js';
import { VrrpConfigError } from './errors.js';
import { decodePacket, encodeAdvert, encodeIpv4Packet, passwordAuth } from './packet.js';
import type { DecodeContext, VrrpAdvert } from './packet.js';
import { KEEPALIVED_PASSWORD, KEEPALIVED_SENDER_IPV4, KEEPALIVED_SENDER_IPV6, keepalivedCaptures } from './testing/index.js';

const hex = (s: string) => Buffer.from(s, 'hex');

/** RFC 1071 written out another way (32-bit words of a DataView), to cross-check checksum.ts. */
function referenceChecksum(parts: Uint8Array[]): number {
  const all = Buffer.concat(parts.map((p) => Buffer.from(p)));
  const padded = all.length % 2 ? Buffer.concat([all, Buffer.alloc(1)]) : all;
  const view = new DataView(padded.buffer, padded.byteOffset, padded.length);
  let sum = 0n;
  for (let i = 0; i < padded.length; i += 2) sum += BigInt(view.getUint16(i));
  while (sum >> 16n) sum = (sum & 0xffffn) + (sum >> 16n);
  return Number(~sum & 0xffffn);
}
const ipv4 = (s: string) => Uint8Array.from(s.split('.').map(Number));

describe('encodeAdvert: packets built by hand from the RFC fields', () => {
  it('VRRPv2 (RFC 3768 5.1): 0x21, VRID, priority, count, auth type, seconds, checksum over the message only', () => {
    const advert: VrrpAdvert = { version: 2, vrid: 7, priority: 100, intervalMs: 1000, addresses: ['192.0.2.10'], auth: { type: 'none' } };
    const buf = encodeAdvert(advert, { family: 'ipv4' });
    const body = hex('21076401' + '0001' + '0000' + 'c000020a' + '0000000000000000');
    const sum = referenceChecksum([body]);
    body.writeUInt16BE(sum, 6);
    expect(buf.toString('hex')).toBe(body.toString('hex'));
  });

  it('VRRPv3 over IPv4 (RFC 5798 5.2): 12-bit centiseconds, checksum including the IPv4 pseudo-header', () => {
    const advert: VrrpAdvert = { version: 3, vrid: 42, priority: 200, intervalMs: 100, addresses: ['198.51.100.1', '198.51.100.2'] };
    const buf = encodeAdvert(advert, { family: 'ipv4', srcAddr: '192.0.2.1', dstAddr: '224.0.0.18' });
    const body = hex('312ac802' + '000a' + '0000' + 'c6336401c6336402');
    const pseudo = Buffer.concat([ipv4('192.0.2.1'), ipv4('224.0.0.18'), hex('0070'), hex('0010')]);
    body.writeUInt16BE(referenceChecksum([pseudo, body]), 6);
    expect(buf.toString('hex')).toBe(body.toString('hex'));
  });

  it('VRRPv3 over IPv6: IPv6 pseudo-header (RFC 8200 8.1) with a 32-bit length and next header 112', () => {
    const advert: VrrpAdvert = { version: 3, vrid: 1, priority: 255, intervalMs: 40950, addresses: ['2001:db8::1'] };
    const buf = encodeAdvert(advert, { family: 'ipv6', srcAddr: 'fe80::1', dstAddr: 'ff02::12' });
    const body = hex('3101ff01' + '0fff' + '0000' + '20010db8000000000000000000000001');
    const pseudo = Buffer.concat([
      hex('fe800000000000000000000000000001'),
      hex('ff020000000000000000000000000012'),
      hex('00000018'),
      hex('00000070'),
    ]);
    body.writeUInt16BE(referenceChecksum([pseudo, body]), 6);
    expect(buf.toString('hex')).toBe(body.toString('hex'));
  });

  it('a whole IPv4 packet has the header keepalived builds: TOS 0xc0, TTL 255, protocol 112, header checksum', () => {
    const advert: VrrpAdvert = { version: 2, vrid: 52, priority: 100, intervalMs: 1000, addresses: ['10.201.0.102'] };
    const packet = encodeIpv4Packet(advert, { srcAddr: KEEPALIVED_SENDER_IPV4, id: 1 });
    expect(packet.toString('hex')).toBe(keepalivedCaptures.v2NoAuthAdvert.ip);
    expect(referenceChecksum([packet.subarray(0, 20)])).toBe(0);
  });

  it('refuses fields the wire cannot carry, naming the field', () => {
    const base: VrrpAdvert = { version: 3, vrid: 1, priority: 100, intervalMs: 100, addresses: ['10.0.0.1'] };
    const ctx = { family: 'ipv4', srcAddr: '10.0.0.2' } as const;
    const cases: [Partial<VrrpAdvert>, RegExp][] = [
      [{ vrid: 0 }, /^vrid: must be an integer 1\.\.255/],
      [{ priority: 256 }, /^priority:/],
      [{ intervalMs: 105 }, /^intervalMs: VRRPv3 carries centiseconds/],
      [{ intervalMs: 41_000 }, /^intervalMs:/],
      [{ version: 2, intervalMs: 1500 }, /^intervalMs: VRRPv2 carries whole seconds/],
      [{ addresses: ['10.0.0.300'] }, /^addresses\[0\]: "10\.0\.0\.300" is not an IPv4 address/],
      [{ addresses: Array.from({ length: 256 }, () => '10.0.0.1') }, /^addresses: at most 255/],
    ];
    for (const [patch, message] of cases) {
      expect(() => encodeAdvert({ ...base, ...patch } as VrrpAdvert, ctx)).toThrow(message);
    }
    expect(() => encodeAdvert({ ...base, version: 2, intervalMs: 1000 }, { family: 'ipv6' })).toThrow(/VRRPv2 \(RFC 3768\) is IPv4 only/);
    expect(() => encodeAdvert(base, { family: 'ipv4' })).toThrow(VrrpConfigError);
  });

  it('keeps a PASS password as 8 NUL-padded bytes and refuses one that keepalived would truncate', () => {
    const auth = passwordAuth('s3cr3t');
    expect(auth).toEqual({ type: 'pass', data: Uint8Array.from(Buffer.from('7333637233740000', 'hex')) });
    expect(() => passwordAuth('123456789')).toThrow(/auth\.password: is 9 bytes; VRRPv2 simple passwords are at most 8/);
    expect(() => passwordAuth('')).toThrow(/auth\.password: must not be empty/);
  });
});

describe('keepalived 2.2.7 packets, byte for byte', () => {
  const ipv4Cases = [
    ['v2PassAdvert', { version: 2, vrid: 51, priority: 150, intervalMs: 1000, addresses: ['10.201.0.100', '10.201.0.101'], auth: passwordAuth(KEEPALIVED_PASSWORD) }, 1],
    ['v2PassStop', { version: 2, vrid: 51, priority: 0, intervalMs: 1000, addresses: ['10.201.0.100', '10.201.0.101'], auth: passwordAuth(KEEPALIVED_PASSWORD) }, 4],
    ['v2NoAuthAdvert', { version: 2, vrid: 52, priority: 100, intervalMs: 1000, addresses: ['10.201.0.102'], auth: { type: 'none' } }, 1],
    ['v2NoAuthStop', { version: 2, vrid: 52, priority: 0, intervalMs: 1000, addresses: ['10.201.0.102'], auth: { type: 'none' } }, 4],
    ['v3Ipv4Advert', { version: 3, vrid: 61, priority: 200, intervalMs: 100, addresses: ['10.201.0.110', '10.201.0.111'] }, 1],
    ['v3Ipv4Stop', { version: 3, vrid: 61, priority: 0, intervalMs: 100, addresses: ['10.201.0.110', '10.201.0.111'] }, 0x3a],
  ] as const;

  for (const [name, advert, ipId] of ipv4Cases) {
    it(`${name}: decodes to the configured fields and encodes back to the same bytes`, () => {
      const capture = keepalivedCaptures[name];
      const decoded = decodePacket(hex(capture.ip), { family: 'ipv4', hasIpHeader: true });
      expect(decoded).toEqual({
        ok: true,
        advert,
        packet: {
          family: 'ipv4',
          srcAddr: KEEPALIVED_SENDER_IPV4,
          dstAddr: '224.0.0.18',
          ttl: 255,
          checksum: hex(capture.ip).readUInt16BE(26),
          checksumCompat: false,
        },
      });
      expect(encodeIpv4Packet(advert, { srcAddr: KEEPALIVED_SENDER_IPV4, id: ipId }).toString('hex')).toBe(capture.ip);
    });
  }

  for (const name of ['v3Ipv6Advert', 'v3Ipv6Stop'] as const) {
    it(`${name}: the IPv6 checksum matches keepalived's (computed by the kernel there)`, () => {
      const c = keepalivedCaptures[name];
      const advert: VrrpAdvert = { version: 3, vrid: 71, priority: name === 'v3Ipv6Stop' ? 0 : 120, intervalMs: 1000, addresses: ['fd00:201::100'] };
      const ctx: DecodeContext = { family: 'ipv6', srcAddr: c.srcAddr, dstAddr: c.dstAddr, ttl: c.hopLimit };
      const decoded = decodePacket(hex(c.vrrp), ctx);
      expect(decoded.ok && decoded.advert).toEqual(advert);
      expect(encodeAdvert(advert, { family: 'ipv6', srcAddr: KEEPALIVED_SENDER_IPV6, dstAddr: 'ff02::12' }).toString('hex')).toBe(c.vrrp);
    });
  }

  it('a keepalived PASS advert passes the password check only with the same password', () => {
    const decoded = decodePacket(hex(keepalivedCaptures.v2PassAdvert.ip), { family: 'ipv4', hasIpHeader: true });
    if (!decoded.ok) throw new Error(decoded.detail);
    const expect51 = { family: 'ipv4', version: 2, vrid: 51, intervalMs: 1000, addresses: ['10.201.0.101', '10.201.0.100'] } as const;
    expect(checkAdvert(decoded.advert, { ...expect51, auth: passwordAuth(KEEPALIVED_PASSWORD) })).toEqual({ ok: true });
    expect(checkAdvert(decoded.advert, { ...expect51, auth: passwordAuth('s3cr3T') })).toMatchObject({ ok: false, reason: 'auth' });
    expect(checkAdvert(decoded.advert, expect51)).toMatchObject({ ok: false, reason: 'auth-type' });
  });
});

describe('decodePacket drops, with the reason the agent counts', () => {
  const good = hex(keepalivedCaptures.v2NoAuthAdvert.ip);
  const v3 = hex(keepalivedCaptures.v3Ipv4Advert.ip);
  const withIp: DecodeContext = { family: 'ipv4', hasIpHeader: true };
  /** Patches bytes then fixes the IP total length and (when asked) the VRRP checksum, so one fault is tested at a time. */
  function patched(base: Buffer, patch: (b: Buffer) => void, opts: { fixChecksum?: 'v2' | 'none' } = {}): Buffer {
    const b = Buffer.from(base);
    patch(b);
    if (opts.fixChecksum === 'v2') {
      const msg = b.subarray(20);
      msg.writeUInt16BE(0, 6);
      msg.writeUInt16BE(referenceChecksum([msg]), 6);
    }
    return b;
  }
  const cases: [string, Buffer | Uint8Array, DecodeContext, string][] = [
    ['empty buffer', Buffer.alloc(0), withIp, 'truncated'],
    ['IP header only', good.subarray(0, 20), withIp, 'truncated'],
    ['IPv6 packet on the IPv4 socket', patched(good, (b) => (b[0] = 0x65)), withIp, 'ip-header'],
    ['IP header length below 20', patched(good, (b) => (b[0] = 0x44)), withIp, 'ip-header'],
    ['IP protocol 51 (AH)', patched(good, (b) => (b[9] = 51)), withIp, 'auth-type'],
    ['IP protocol 17', patched(good, (b) => (b[9] = 17)), withIp, 'protocol'],
    ['IP total length disagrees', patched(good, (b) => b.writeUInt16BE(41, 2)), withIp, 'length'],
    ['trailing byte', Buffer.concat([patched(good, (b) => b.writeUInt16BE(41, 2)), Buffer.alloc(1)]), withIp, 'length'],
    ['count says 2 addresses, 1 present', patched(good, (b) => (b[23] = 2), { fixChecksum: 'v2' }), withIp, 'truncated'],
    ['count 255', patched(good, (b) => (b[23] = 255), { fixChecksum: 'v2' }), withIp, 'truncated'],
    ['TTL 64 (routed from elsewhere)', patched(good, (b) => (b[8] = 64)), withIp, 'ttl'],
    ['VRRP version 1', patched(good, (b) => (b[20] = 0x11), { fixChecksum: 'v2' }), withIp, 'version'],
    ['packet type 2', patched(good, (b) => (b[20] = 0x22), { fixChecksum: 'v2' }), withIp, 'type'],
    ['v2 auth type 2 (AH)', patched(good, (b) => (b[24] = 2), { fixChecksum: 'v2' }), withIp, 'auth-type'],
    ['v2 auth type 9', patched(good, (b) => (b[24] = 9), { fixChecksum: 'v2' }), withIp, 'auth-type'],
    ['v2 checksum off by one', patched(good, (b) => (b[27] = (b[27] as number) ^ 1)), withIp, 'checksum'],
    ['v2 priority changed, checksum not', patched(good, (b) => (b[22] = 101)), withIp, 'checksum'],
    ['v2 interval 0', patched(good, (b) => (b[25] = 0), { fixChecksum: 'v2' }), withIp, 'interval'],
    ['v3 from another source (pseudo-header)', patched(v3, (b) => (b[15] = 2)), withIp, 'checksum'],
    ['v3 address changed', patched(v3, (b) => (b[35] = 0x70)), withIp, 'checksum'],
    [
      'VRRPv2 over IPv6',
      hex('21010101000100000000000000000000000000000000000000000000000000000000'),
      { family: 'ipv6', srcAddr: 'fe80::1', dstAddr: 'ff02::12' },
      'family',
    ],
    [
      'IPv6 hop limit 254',
      hex(keepalivedCaptures.v3Ipv6Advert.vrrp),
      { family: 'ipv6', srcAddr: KEEPALIVED_SENDER_IPV6, dstAddr: 'ff02::12', ttl: 254 },
      'ttl',
    ],
    [
      'IPv6 from another link-local source',
      hex(keepalivedCaptures.v3Ipv6Advert.vrrp),
      { family: 'ipv6', srcAddr: 'fe80::2', dstAddr: 'ff02::12', ttl: 255 },
      'checksum',
    ],
  ];
  for (const [what, buf, ctx, reason] of cases) {
    it(`${what} -> ${reason}`, () => {
      const r = decodePacket(buf, ctx);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.reason).toBe(reason);
        expect(r.detail.length).toBeGreaterThan(0);
      }
    });
  }

  it('unicast peers: no TTL 255 check (as keepalived), and only unicast destinations either way', () => {
    const unicast = { family: 'ipv4', hasIpHeader: true, unicast: true } as const;
    const toPeer = encodeIpv4Packet(
      { version: 2, vrid: 52, priority: 100, intervalMs: 1000, addresses: ['10.201.0.102'] },
      { srcAddr: '10.201.0.1', dstAddr: '10.201.0.2', ttl: 64 },
    );
    expect(decodePacket(toPeer, unicast).ok).toBe(true);
    expect(decodePacket(patched(toPeer, (b) => (b[8] = 255)), withIp)).toMatchObject({ ok: false, reason: 'destination' });
    expect(decodePacket(good, unicast)).toMatchObject({ ok: false, reason: 'destination' });
    const v6 = keepalivedCaptures.v3Ipv6Advert;
    expect(decodePacket(hex(v6.vrrp), { family: 'ipv6', srcAddr: v6.srcAddr, dstAddr: v6.dstAddr, unicast: true })).toMatchObject({
      ok: false,
      reason: 'destination',
    });
  });

  it('accepts the pre-1.3.6 keepalived unicast v3 checksum (224.0.0.18 in the pseudo-header) and says so', () => {
    const advert: VrrpAdvert = { version: 3, vrid: 9, priority: 90, intervalMs: 100, addresses: ['10.9.0.1'] };
    const legacy = encodeAdvert(advert, { family: 'ipv4', srcAddr: '10.9.0.2', dstAddr: '10.9.0.3', checksumCompat: true });
    const modern = encodeAdvert(advert, { family: 'ipv4', srcAddr: '10.9.0.2', dstAddr: '10.9.0.3' });
    expect(legacy.equals(modern)).toBe(false);
    const ctx: DecodeContext = { family: 'ipv4', srcAddr: '10.9.0.2', dstAddr: '10.9.0.3', unicast: true };
    expect(decodePacket(legacy, ctx)).toMatchObject({ ok: true, packet: { checksumCompat: true } });
    expect(decodePacket(modern, ctx)).toMatchObject({ ok: true, packet: { checksumCompat: false } });
  });

  it('reads a v3 interval with the 4 reserved bits set (ignored on receipt, RFC 5798 5.2.6)', () => {
    const b = Buffer.from(v3);
    const msg = b.subarray(20);
    msg[4] = (msg[4] as number) | 0xf0;
    const pseudo = Buffer.concat([b.subarray(12, 16), b.subarray(16, 20), hex('0070'), hex('0010')]);
    msg.writeUInt16BE(0, 6);
    msg.writeUInt16BE(referenceChecksum([pseudo, msg]), 6);
    expect(decodePacket(b, withIp)).toMatchObject({ ok: true, advert: { intervalMs: 100 } });
  });

  it('refuses a context whose addresses are not addresses (a programming error, not a packet)', () => {
    expect(() => decodePacket(v3, { family: 'ipv4', srcAddr: 'nope', dstAddr: '224.0.0.18' })).toThrow(/srcAddr: "nope" is not an ipv4 address/);
  });
});
