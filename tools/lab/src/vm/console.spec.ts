import { describe, expect, it } from 'vitest';
import { CrlfFilter, Tail } from './console.js';

describe('CrlfFilter', () => {
  it('turns CRLF into LF, also when a chunk ends between the two', () => {
    const f = new CrlfFilter();
    expect(f.push('a\r\nb\r')).toBe('a\nb');
    expect(f.push('\nc')).toBe('\nc');
    expect(f.push('\r')).toBe('');
    expect(f.flush()).toBe('\r');
  });

  it('keeps a lone CR (progress redraws)', () => {
    expect(new CrlfFilter().push('50%\r60%\r\n')).toBe('50%\r60%\n');
  });
});

describe('Tail', () => {
  it('keeps the last lines of a stream split anywhere', () => {
    const t = new Tail(2);
    t.push('one\ntw');
    t.push('o\nthree\nfou');
    expect(t.get()).toEqual(['three', 'fou']);
    t.push('r\n');
    expect(t.get()).toEqual(['three', 'four']);
  });
});
