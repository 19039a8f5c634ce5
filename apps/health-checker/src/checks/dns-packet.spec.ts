import { describe, expect, it } from 'vitest';
import { checkReply, encodeQuery } from './dns-packet.js';

/** A reply to `query`: header fields overridden, the question echoed, `answers` raw RRs appended. */
function reply(query: Buffer, opts: { id?: number; flags?: number; qd?: number; an?: number; question?: Buffer } = {}): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(opts.id ?? query.readUInt16BE(0), 0);
  head.writeUInt16BE(opts.flags ?? 0x8180, 2);
  head.writeUInt16BE(opts.qd ?? 1, 4);
  head.writeUInt16BE(opts.an ?? 1, 6);
  return Buffer.concat([head, opts.question ?? query.subarray(12)]);
}

describe('DNS query', () => {
  it('encodes labels, type and class IN with the RD bit', () => {
    expect(encodeQuery(0xabcd, 'www.Example.test.', 'AAAA').toString('hex')).toBe(
      'abcd01000001000000000000' + '03777777' + '074578616d706c65' + '0474657374' + '00' + '001c' + '0001',
    );
    expect(encodeQuery(1, '.', 'SOA').subarray(12).toString('hex')).toBe('0000060001');
  });

  it.each([
    ['a..b', /each label must be 1-63/],
    [`${'a'.repeat(64)}.test`, /each label must be 1-63/],
    ['a b.test', /only printable ASCII/],
    [Array(130).fill('a').join('.'), /longer than 255 bytes/],
  ])('refuses the name %j', (name, message) => {
    expect(() => encodeQuery(1, name, 'A')).toThrow(message);
  });
});

describe('DNS reply check', () => {
  const q = encodeQuery(0x1234, 'example.test', 'A');
  it.each([
    ['an answer', reply(q), { kind: 'answer', count: 1 }],
    ['NOERROR with no answer', reply(q, { an: 0 }), { kind: 'answer', count: 0 }],
    ['NXDOMAIN', reply(q, { flags: 0x8183, an: 0 }), { kind: 'rcode', rcode: 3 }],
    ['REFUSED without a question', reply(q, { flags: 0x8105, qd: 0, an: 0, question: Buffer.alloc(0) }), { kind: 'rcode', rcode: 5 }],
    ['another id (stale or stray)', reply(q, { id: 0x4321 }), { kind: 'ignore' }],
    ['a question in another letter case', reply(q, { question: Buffer.from(q.subarray(12).toString('latin1').toUpperCase(), 'latin1') }), { kind: 'answer', count: 1 }],
    ['a packet shorter than a header', Buffer.from([0x12, 0x34, 0x81]), { kind: 'malformed' }],
    ['a query instead of a reply', reply(q, { flags: 0x0100 }), { kind: 'malformed', why: 'QR bit not set: a query, not a reply' }],
    ['a truncated reply', reply(q, { flags: 0x8380 }), { kind: 'malformed', why: 'reply truncated (TC bit)' }],
    ['another question', reply(q, { question: encodeQuery(1, 'other.test', 'A').subarray(12) }), { kind: 'malformed' }],
    ['a cut-off question', reply(q).subarray(0, 20), { kind: 'malformed' }],
  ])('reads %s', (_name, msg, verdict) => {
    expect(checkReply(msg, q)).toMatchObject(verdict);
  });
});
