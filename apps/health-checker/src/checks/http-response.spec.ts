import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HttpResponseParser, type ParseStep, type ResponseHead } from './http-response.js';

interface Run {
  step: ParseStep;
  head?: ResponseHead;
  wire: Buffer;
  payload: Buffer;
}

/** Feeds `response` in pieces of `size` bytes (the network can split anywhere), then EOF if asked. */
function feed(response: string | Buffer, size: number, opts: { eof?: boolean; wantBody?: boolean; maxBody?: number; maxHeader?: number } = {}): Run {
  const wire: Buffer[] = [];
  const payload: Buffer[] = [];
  let head: ResponseHead | undefined;
  const parser = new HttpResponseParser(
    {
      head: (h) => {
        head = h;
        return opts.wantBody ?? true;
      },
      wire: (b) => wire.push(Buffer.from(b)),
      payload: (b) => payload.push(Buffer.from(b)),
    },
    opts.maxHeader ?? 16384,
    opts.maxBody ?? 1 << 20,
  );
  const buf = typeof response === 'string' ? Buffer.from(response, 'latin1') : response;
  let step: ParseStep = { state: 'more' };
  for (let i = 0; i < buf.length && step.state === 'more'; i += size) step = parser.push(buf.subarray(i, i + size));
  if (step.state === 'more' && opts.eof) step = parser.end();
  return { step, head, wire: Buffer.concat(wire), payload: Buffer.concat(payload) };
}

const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: y\r\n\r\n';

describe('HttpResponseParser', () => {
  it.each([1, 2, 7, 1000])('reads a Content-Length body split every %i bytes and stops at its end', (size) => {
    const r = feed('HTTP/1.0 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhelloEXTRA', size);
    expect(r.step.state).toBe('done');
    expect(r.head?.status).toBe(200);
    expect(r.head?.version).toBe('1.0');
    expect(r.payload.toString()).toBe('hello');
    expect(r.wire.toString()).toBe('hello');
  });

  it.each([1, 3, 11, 1000])('de-chunks a chunked body split every %i bytes, keeping the wire bytes for the digest', (size) => {
    const r = feed(chunked, size);
    expect(r.step.state).toBe('done');
    expect(r.payload.toString()).toBe('hello, world');
    expect(r.wire.toString('latin1')).toBe(chunked.slice(chunked.indexOf('\r\n\r\n') + 4));
  });

  it('reads a close-delimited body until EOF', () => {
    const body = Buffer.from([0, 1, 2, 255, 13, 10]);
    const r = feed(Buffer.concat([Buffer.from('HTTP/1.1 503 Busy\r\n\r\n'), body]), 4, { eof: true });
    expect(r.step.state).toBe('done');
    expect(r.head?.status).toBe(503);
    expect(createHash('md5').update(r.wire).digest('hex')).toBe(createHash('md5').update(body).digest('hex'));
  });

  it('accepts bare-LF headers from sloppy servers', () => {
    const r = feed('HTTP/1.0 204 No Content\nX: 1\n\n', 3, { eof: true });
    expect(r.step.state).toBe('done');
    expect(r.head?.headers.get('x')).toBe('1');
  });

  it('stops after the header when the body is not needed', () => {
    const r = feed('HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\nxxxx', 5, { wantBody: false });
    expect(r.step.state).toBe('done');
    expect(r.wire.length).toBe(0);
  });

  it.each([
    ['binary garbage', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x0a, 0x0d, 0x0a, 0x0a]), 'protocol', /not an HTTP\/1.x status line/],
    ['a non-HTTP status line', 'SSH-2.0-OpenSSH_9.2\r\n\r\n', 'protocol', /not an HTTP\/1.x status line/],
    ['a header line with no name', 'HTTP/1.1 200 OK\r\n: x\r\n\r\n', 'protocol', /header line 2 has no name/],
    ['conflicting Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 'protocol', /bad Content-Length/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'protocol', /bad chunk size/],
    ['chunk data without CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX', 'protocol', /not followed by CRLF/],
  ])('refuses %s', (_name, input, reason, message) => {
    const r = feed(input, 3);
    expect(r.step).toMatchObject({ state: 'failed', reason });
    expect(r.step.state === 'failed' && r.step.message).toMatch(message);
  });

  it('fails too-large when the header never ends (slowloris or garbage without newlines)', () => {
    const r = feed(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(20000)}`, 512, { maxHeader: 16384 });
    expect(r.step).toMatchObject({ state: 'failed', reason: 'too-large' });
  });

  it('fails too-large at the body cap instead of reading an endless body', () => {
    const r = feed(`HTTP/1.0 200 OK\r\n\r\n${'x'.repeat(5000)}`, 1000, { maxBody: 4096 });
    expect(r.step).toMatchObject({ state: 'failed', reason: 'too-large', message: 'response body larger than the 4096-byte limit' });
    expect(r.wire.length).toBeLessThanOrEqual(4096);
  });

  it.each([
    ['', /closed without a response/],
    ['HTTP/1.1 200 OK\r\nServ', /before the response header was complete/],
    ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', /after 3 body bytes, Content-Length promised 10/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', /inside a chunked body/],
  ])('reports an early close of %j', (input, message) => {
    const r = feed(input, 4, { eof: true });
    expect(r.step).toMatchObject({ state: 'failed', reason: 'protocol' });
    expect(r.step.state === 'failed' && r.step.message).toMatch(message);
  });
});
