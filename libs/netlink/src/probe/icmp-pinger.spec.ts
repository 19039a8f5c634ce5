import { describe, expect, it } from 'vitest';
import { checksum } from './icmp-pinger.js';

describe('ICMP checksum (RFC 1071)', () => {
  it('matches the RFC example and verifies to zero once written into the packet', () => {
    // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums (with end-around carry) to 0xddf2.
    expect(checksum(Buffer.from('0001f203f4f5f6f7', 'hex'))).toBe(~0xddf2 & 0xffff);
    const echo = Buffer.from('08000000abcd0001deadbeef00112233', 'hex');
    echo.writeUInt16BE(checksum(echo), 2);
    expect(checksum(echo)).toBe(0);
  });

  it('pads an odd length with a zero byte', () => {
    expect(checksum(Buffer.from('0001f2', 'hex'))).toBe(checksum(Buffer.from('0001f200', 'hex')));
  });
});
