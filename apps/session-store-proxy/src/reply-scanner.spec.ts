import { describe, expect, it } from 'vitest';
import { arrayElements, setnxReply, toResp3 } from './reply-frames.js';
import { ReplyScanner, RespReplyError } from './reply-scanner.js';

/** Feeds `wire` in pieces of `step` bytes; returns the frames as strings. */
function scan(wire: Buffer, step = wire.length, scanner = new ReplyScanner()): string[] {
  const frames: string[] = [];
  for (let i = 0; i < wire.length; i += step) {
    scanner.feed(wire.subarray(i, i + step), (buf, s, e) => frames.push(buf.toString('latin1', s, e)));
  }
  return frames;
}

const RESP2 = [
  '+OK\r\n',
  '-ERR wrong number of arguments\r\n',
  ':-42\r\n',
  '$5\r\nhello\r\n',
  '$-1\r\n',
  '$0\r\n\r\n',
  '$6\r\n*1\r\n\r\n\r\n', // a bulk whose payload looks like frames
  '*-1\r\n',
  '*0\r\n',
  '*3\r\n$1\r\na\r\n*2\r\n:1\r\n*1\r\n$-1\r\n+x\r\n', // nested: the inner arrays end together
];

const RESP3 = [
  '_\r\n',
  '#t\r\n',
  ',3.14\r\n',
  '(3492890328409238509324850943850943825024385\r\n',
  '!21\r\nSYNTAX invalid syntax\r\n',
  '=15\r\ntxt:Some string\r\n',
  '%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n~2\r\n:2\r\n_\r\n',
  '|1\r\n+ttl\r\n:3600\r\n$2\r\nhi\r\n', // an attribute, then the value it describes
  '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n',
];

describe('ReplyScanner', () => {
  it('splits RESP2 and RESP3 replies at frame boundaries, split at every byte', () => {
    const frames = [...RESP2, ...RESP3];
    const wire = Buffer.from(frames.join(''), 'latin1');
    for (let step = 1; step <= wire.length; step++) expect(scan(wire, step)).toEqual(frames);
  });

  it('hands over binary bulks unchanged and joins a long bulk from many chunks', () => {
    const value = Buffer.alloc(300_000);
    for (let i = 0; i < value.length; i++) value[i] = (i * 7) & 0xff;
    const wire = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n:1\r\n')]);
    const frames: Buffer[] = [];
    const scanner = new ReplyScanner();
    for (let i = 0; i < wire.length; i += 1000) scanner.feed(wire.subarray(i, i + 1000), (b, s, e) => frames.push(Buffer.from(b.subarray(s, e))));
    expect(frames).toHaveLength(2);
    expect(frames[0]?.subarray(frames[0].indexOf('\r\n') + 2, -2).equals(value)).toBe(true); // toEqual walks 300 KB slowly
    expect(frames[1]?.toString()).toBe(':1\r\n');
    expect(scanner.buffered).toBe(0);
  });

  it('keeps a partial frame until the rest arrives', () => {
    const scanner = new ReplyScanner();
    expect(scan(Buffer.from('*2\r\n$3\r\nab'), undefined, scanner)).toEqual([]);
    expect(scanner.buffered).toBeGreaterThan(0);
    expect(scan(Buffer.from('c\r\n:7\r\n+OK\r\n'), undefined, scanner)).toEqual(['*2\r\n$3\r\nabc\r\n:7\r\n', '+OK\r\n']);
  });

  it.each([
    ['an unknown type byte', 'hello\r\n', /unexpected reply type byte 0x68/],
    ['a non-numeric length', '$abc\r\nxyz\r\n', /invalid length/],
    ['a negative length other than -1', '$-5\r\n', /negative length/],
    ['a null map', '%-1\r\n', /negative length/],
    ['a bulk without its CRLF', '$3\r\nabcXY', /not followed by CRLF/],
    ['a CR without LF', '+OK\rX\n', /not terminated by CRLF/],
    ['nesting deeper than the limit', '*1\r\n'.repeat(200), /nested deeper than 128/],
    ['a bulk above the limit', '$999999999999\r\n', /bulk reply of 999999999999 bytes/],
  ])('refuses %s with RespReplyError, and keeps refusing', (_, wire, message) => {
    const scanner = new ReplyScanner();
    expect(() => scan(Buffer.from(wire, 'latin1'), undefined, scanner)).toThrow(message);
    expect(() => scanner.feed(Buffer.from('+OK\r\n'), () => undefined)).toThrow(RespReplyError);
  });

  it('refuses a line that never ends, without buffering it all', () => {
    const scanner = new ReplyScanner({ maxDepth: 8, maxBulkBytes: 1024, maxLineBytes: 100 });
    expect(() => scan(Buffer.from(`+${'x'.repeat(200)}`), 10, scanner)).toThrow(/longer than 100 bytes/);
  });
});

describe('reply frames for clients', () => {
  it('turns RESP2 nulls and field lists into RESP3, leaving look-alike payloads alone', () => {
    expect(toResp3(Buffer.from('$-1\r\n'), false).toString()).toBe('_\r\n');
    expect(toResp3(Buffer.from('*2\r\n$-1\r\n$4\r\n$-1\r\n'), false).toString()).toBe('*2\r\n_\r\n$4\r\n$-1\r\n');
    expect(toResp3(Buffer.from('*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$-1\r\n'), true).toString()).toBe('%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n_\r\n');
    const plain = Buffer.from('$3\r\nabc\r\n');
    expect(toResp3(plain, false)).toBe(plain);
  });

  it('answers SETNX as 1/0 and splits EXEC results', () => {
    expect(setnxReply(Buffer.from('+OK\r\n')).toString()).toBe(':1\r\n');
    expect(setnxReply(Buffer.from('$-1\r\n')).toString()).toBe(':0\r\n');
    expect(setnxReply(Buffer.from('-ERR x\r\n')).toString()).toBe('-ERR x\r\n');
    expect(arrayElements(Buffer.from('*3\r\n+OK\r\n*1\r\n:2\r\n$1\r\nx\r\n'))?.map(String)).toEqual(['+OK\r\n', '*1\r\n:2\r\n', '$1\r\nx\r\n']);
    expect(arrayElements(Buffer.from('*-1\r\n'))).toBeNull();
  });
});
