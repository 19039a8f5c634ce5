import { describe, expect, it } from 'vitest';
import { AttrWriter, Attrs } from './attrs.js';

describe('AttrWriter / Attrs', () => {
  it('keeps every value when the stream grows far past its first buffer, inside nested containers too', () => {
    const w = new AttrWriter();
    for (let i = 1; i <= 40; i += 1) w.u64(i, BigInt(i) << 40n);
    w.nested(41, (n) => {
      for (let i = 1; i <= 30; i += 1) n.string(i, `name-${i}-${'x'.repeat(i)}`);
      n.nested(31, (m) => m.u8(1, 7).u16(2, 0xbeef).u16be(3, 0x1234).u32(4, 0xdeadbeef).u32be(5, 0x01020304).padded(6, Buffer.from([10, 0, 0, 1]), 16));
    });
    w.bytes(42, Buffer.alloc(300, 0xab));
    const a = Attrs.parse(w.toBuffer(), 'test');
    for (let i = 1; i <= 40; i += 1) expect(a.u64(i, `u64-${i}`)).toBe(BigInt(i) << 40n);
    const n = a.nested(41, 'outer');
    for (let i = 1; i <= 30; i += 1) expect(n.string(i, `s${i}`)).toBe(`name-${i}-${'x'.repeat(i)}`);
    const m = n.nested(31, 'inner');
    expect([m.u8(1, 'a'), m.u16(2, 'b'), m.u16be(3, 'c'), m.u32(4, 'd'), m.u32be(5, 'e')]).toEqual([7, 0xbeef, 0x1234, 0xdeadbeef, 0x01020304]);
    expect([...m.bytes(6, 'f', 16)]).toEqual([10, 0, 0, 1, ...new Array<number>(12).fill(0)]);
    expect(a.bytes(42, 'blob', 300).every((b) => b === 0xab)).toBe(true);
  });

  it('pads every attribute to 4 bytes with zeros and counts the header in the length', () => {
    expect(new AttrWriter().u8(1, 0xff).string(2, 'ab').toBuffer().toString('hex')).toBe('05000100ff000000' + '0700020061620000');
  });

  it('names the attribute that is missing or too short', () => {
    const a = Attrs.parse(new AttrWriter().u16(1, 5).toBuffer(), 'thing');
    expect(() => a.u32(1, 'FIELD')).toThrow(/thing: attribute FIELD \(1\) has 2 bytes, need 4/);
    expect(() => a.u32(2, 'OTHER')).toThrow(/thing: attribute OTHER \(2\) missing/);
  });
});
