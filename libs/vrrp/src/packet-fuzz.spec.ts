import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6 } from './address.js';
import { decodePacket, encodeAdvert, encodeIpv4Packet } from './packet.js';
import type { DecodeContext, DecodeResult, VrrpAdvert } from './packet.js';
import { keepalivedCaptures } from './testing/index.js';

/** mulberry32: a small seeded PRNG, so a failure replays with the same inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REASONS = new Set(['truncated', 'length', 'ip-header', 'protocol', 'ttl', 'version', 'type', 'family', 'auth-type', 'checksum', 'interval', 'destination']);

function wellFormed(r: DecodeResult): boolean {
  if (!r.ok) return REASONS.has(r.reason) && typeof r.detail === 'string' && r.detail.length > 0;
  const a = r.advert;
  return (
    (a.version === 2 || a.version === 3) &&
    a.vrid >= 0 && a.vrid <= 255 &&
    a.priority >= 0 && a.priority <= 255 &&
    a.intervalMs > 0 &&
    a.addresses.length <= 255
  );
}

describe('decodePacket under fuzzing (seeded)', () => {
  const contexts: DecodeContext[] = [
    { family: 'ipv4', hasIpHeader: true },
    { family: 'ipv4', srcAddr: '10.0.0.1', dstAddr: '224.0.0.18', ttl: 255 },
    { family: 'ipv6', srcAddr: 'fe80::1', dstAddr: 'ff02::12' },
  ];

  it('never throws and always says ok or why not, over 100,000 random, truncated and mutated inputs', () => {
    const rand = prng(20261122);
    const byte = () => Math.floor(rand() * 256);
    const seeds = Object.values(keepalivedCaptures).map((c) => Buffer.from(c.family === 'ipv4' ? c.ip : c.vrrp, 'hex'));
    const started = Date.now();
    let accepted = 0;
    for (let i = 0; i < 100_000; i += 1) {
      let buf: Buffer;
      const kind = i % 4;
      if (kind === 0) {
        buf = Buffer.from(Array.from({ length: Math.floor(rand() * 80) }, byte));
      } else {
        const seed = seeds[Math.floor(rand() * seeds.length)] as Buffer;
        buf = Buffer.from(seed);
        if (kind === 1) buf = buf.subarray(0, Math.floor(rand() * (buf.length + 1)));
        if (kind === 2) for (let k = 1 + Math.floor(rand() * 4); k > 0; k -= 1) buf[Math.floor(rand() * buf.length)] = byte();
        if (kind === 3) {
          // A huge or wrong address count, with the lengths around it.
          const at = buf.length > 40 && buf[0] === 0x45 ? 23 : 3;
          buf[at] = byte();
          buf = Buffer.concat([buf, Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, byte))]);
          if (buf[0] === 0x45) buf.writeUInt16BE(buf.length, 2);
        }
      }
      const ctx = contexts[Math.floor(rand() * contexts.length)] as DecodeContext;
      let r: DecodeResult;
      try {
        r = decodePacket(buf, ctx);
      } catch (err) {
        throw new Error(`input ${i} (${buf.toString('hex')}) threw: ${String(err)}`);
      }
      if (!wellFormed(r)) throw new Error(`input ${i} (${buf.toString('hex')}) gave ${JSON.stringify(r)}`);
      if (r.ok) accepted += 1;
    }
    // The unchanged captures picked by the mutation kinds are accepted, so the ok path ran too.
    expect(accepted).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('rejects every single-bit error in the VRRP message (the checksum catches what the checks do not)', () => {
    for (const capture of Object.values(keepalivedCaptures)) {
      const buf = Buffer.from(capture.family === 'ipv4' ? capture.ip : capture.vrrp, 'hex');
      const ctx: DecodeContext =
        capture.family === 'ipv4'
          ? { family: 'ipv4', hasIpHeader: true }
          : { family: 'ipv6', srcAddr: capture.srcAddr, dstAddr: capture.dstAddr, ttl: capture.hopLimit };
      const start = capture.family === 'ipv4' ? 20 : 0;
      for (let bit = start * 8; bit < buf.length * 8; bit += 1) {
        const flipped = Buffer.from(buf);
        flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (0x80 >> (bit & 7));
        // Even the 4 reserved bits of the v3 interval, ignored on receipt, are under the checksum.
        const r = decodePacket(flipped, ctx);
        if (r.ok) throw new Error(`bit ${bit} of ${capture.family} ${buf.toString('hex')} flipped and still accepted`);
      }
    }
  });

  it('decodes what it encodes, for 5,000 random adverts (v2, v3 over IPv4 and IPv6)', () => {
    const rand = prng(7);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    for (let i = 0; i < 5_000; i += 1) {
      const version = i % 3 === 0 ? 2 : 3;
      const family = version === 3 && i % 2 ? 'ipv6' : 'ipv4';
      const count = int(0, family === 'ipv6' ? 20 : 60);
      const addr = () => {
        const bytes = Uint8Array.from({ length: family === 'ipv4' ? 4 : 16 }, () => int(0, 255));
        return family === 'ipv4' ? formatIpv4(bytes) : formatIpv6(bytes);
      };
      const advert: VrrpAdvert = {
        version,
        vrid: int(1, 255),
        priority: int(0, 255),
        intervalMs: version === 2 ? int(1, 255) * 1000 : int(1, 4095) * 10,
        addresses: Array.from({ length: count }, addr),
        ...(version === 2
          ? { auth: i % 2 ? { type: 'pass' as const, data: Uint8Array.from({ length: 8 }, () => int(0, 255)) } : { type: 'none' as const } }
          : {}),
      };
      const src = addr();
      const dst = family === 'ipv4' ? '224.0.0.18' : 'ff02::12';
      const r =
        family === 'ipv4' && i % 4 === 1
          ? decodePacket(encodeIpv4Packet(advert, { srcAddr: src }), { family: 'ipv4', hasIpHeader: true })
          : decodePacket(encodeAdvert(advert, { family, srcAddr: src, dstAddr: dst }), { family, srcAddr: src, dstAddr: dst, ttl: 255 });
      if (!r.ok) throw new Error(`advert ${JSON.stringify(advert)} from ${src}: ${r.reason} ${r.detail}`);
      expect(r.advert).toEqual(advert);
    }
  });
});
