import { describe, expect, it } from 'vitest';
import { RequestParser, RespProtocolError, encode } from './resp.js';

const cmd = (...a: string[]) => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')}`;
const strs = (cmds: Buffer[][]) => cmds.map((c) => c.map((b) => b.toString()));

describe('RequestParser', () => {
  it('parses pipelined commands split at every byte boundary', () => {
    const wire = Buffer.from(cmd('SET', 'k', 'v\r\nwith crlf') + cmd('GET', 'k') + 'PING\r\n');
    for (let step = 1; step <= wire.length; step++) {
      const p = new RequestParser();
      const out: Buffer[][] = [];
      for (let i = 0; i < wire.length; i += step) out.push(...p.feed(wire.subarray(i, i + step)));
      expect(strs(out)).toEqual([['SET', 'k', 'v\r\nwith crlf'], ['GET', 'k'], ['PING']]);
      expect(p.partial).toBe(false);
    }
  });

  it('keeps binary values intact', () => {
    const value = Buffer.from([0, 255, 13, 10, 42, 36]);
    const wire = Buffer.concat([Buffer.from('*2\r\n$3\r\nGET\r\n$6\r\n'), value, Buffer.from('\r\n')]);
    expect(new RequestParser().feed(wire)[0]?.[1]).toEqual(value);
  });

  it('refuses a bulk above the limit from its header, before any of it arrives', () => {
    const p = new RequestParser({ maxBulkBytes: 1024, maxArgs: 10, maxLineBytes: 100 });
    expect(() => p.feed(Buffer.from('*2\r\n$3\r\nSET\r\n$524288000\r\n'))).toThrow(/bulk length: 524288000 bytes, at most 1024/);
  });

  it.each([
    ['negative bulk length', '*1\r\n$-5\r\n', /negative/],
    ['negative array length', '*-7\r\n', /negative/],
    ['nested arrays', '*1\r\n*1\r\n*1\r\n$1\r\na\r\n', /nested arrays/],
    ['a non-number length', '*x\r\n', /invalid multibulk length/],
    ['too many arguments', '*5000\r\n', /at most 4096/],
    ['bulk without CRLF', '*1\r\n$1\r\nab\r\n', /not followed by CRLF/],
  ])('refuses %s', (_, wire, message) => {
    expect(() => new RequestParser().feed(Buffer.from(wire))).toThrow(RespProtocolError);
    expect(() => new RequestParser().feed(Buffer.from(wire))).toThrow(message);
  });

  it('refuses an endless header line', () => {
    const p = new RequestParser({ maxBulkBytes: 1024, maxArgs: 10, maxLineBytes: 100 });
    expect(() => p.feed(Buffer.from(`*${'1'.repeat(200)}`))).toThrow(/line too long/);
  });

  it('gives the exact bytes of each command that arrived whole, so they can be forwarded as sent', () => {
    const wire = Buffer.from(cmd('GET', 'a') + cmd('SET', 'b', '1') + 'PING\r\n' + cmd('GET', 'c').slice(0, 6));
    const p = new RequestParser();
    const out = p.feed(wire);
    expect(out.map((c) => c.raw?.toString())).toEqual([cmd('GET', 'a'), cmd('SET', 'b', '1'), undefined]);
    // The rest of the split command comes in the next chunk: its arguments are there, its bytes are not one view.
    const [rest] = p.feed(Buffer.from(cmd('GET', 'c').slice(6)));
    expect(strs([rest as Buffer[]])).toEqual([['GET', 'c']]);
    expect(rest?.raw).toBeUndefined();
    expect(p.feed(Buffer.from(cmd('GET', 'd')))[0]?.raw?.toString()).toBe(cmd('GET', 'd'));
  });

  it('says when a command is half received', () => {
    const p = new RequestParser();
    p.feed(Buffer.from('*2\r\n$3\r\nGET\r\n$1'));
    expect(p.partial).toBe(true);
    expect(strs(p.feed(Buffer.from('\r\nk\r\n')))).toEqual([['GET', 'k']]);
    expect(p.partial).toBe(false);
  });
});

describe('encode', () => {
  it('writes RESP2 and RESP3 nulls and maps', () => {
    expect(encode(null, 2).toString()).toBe('$-1\r\n');
    expect(encode(null, 3).toString()).toBe('_\r\n');
    expect(encode({ map: [['a', 1]] }, 2).toString()).toBe('*2\r\n$1\r\na\r\n:1\r\n');
    expect(encode({ map: [['a', 1]] }, 3).toString()).toBe('%1\r\n$1\r\na\r\n:1\r\n');
  });

  it('keeps an error message on one line', () => {
    expect(encode({ error: 'ERR bad\r\nthing' }, 2).toString()).toBe('-ERR bad thing\r\n');
  });
});
