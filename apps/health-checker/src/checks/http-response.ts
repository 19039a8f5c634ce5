import type { FailReason } from './types.js';

/** Status line and headers of a response (header names lower-cased). */
export interface ResponseHead {
  version: '1.0' | '1.1';
  status: number;
  statusLine: string;
  headers: Map<string, string>;
  /** The raw header block, for genhash --verbose. */
  raw: string;
  /** Body length from Content-Length, or null when chunked or close-delimited. */
  contentLength: number | null;
  chunked: boolean;
}

export interface ResponseSink {
  /**
   * Called once the header is complete. Return false when the body is not needed (the status
   * decides the check): parsing stops there.
   */
  head(head: ResponseHead): boolean;
  /** Body bytes as they came off the wire (chunk framing included), for keepalived's digest. */
  wire(bytes: Buffer): void;
  /** Body payload (chunk framing removed), for the regex. */
  payload(bytes: Buffer): void;
}

export type ParseStep = { state: 'more' } | { state: 'done' } | { state: 'failed'; reason: FailReason; message: string };

const MORE: ParseStep = { state: 'more' };
const DONE: ParseStep = { state: 'done' };
const failed = (reason: FailReason, message: string): ParseStep => ({ state: 'failed', reason, message });

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const MAX_CHUNK_LINE = 1024;

type Phase = 'head' | 'length' | 'close' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'done';

/**
 * An incremental, bounded HTTP/1.x response reader: it holds at most `maxHeaderBytes` of header
 * and never buffers the body (the sink decides what to keep). Reading past `maxBodyBytes` of body
 * fails with 'too-large' instead of waiting for the end of a body that never ends.
 */
export class HttpResponseParser {
  private phase: Phase = 'head';
  private headBuf: Buffer | null = null;
  private bodyBytes = 0;
  private remaining = 0; // bytes left in a Content-Length body or the current chunk
  private line = ''; // partial chunk-size or trailer line

  constructor(
    private readonly sink: ResponseSink,
    private readonly maxHeaderBytes: number,
    private readonly maxBodyBytes: number,
  ) {}

  /** Body bytes read so far (wire bytes, chunk framing included). */
  get bodyLength(): number {
    return this.bodyBytes;
  }

  push(chunk: Buffer): ParseStep {
    if (this.phase === 'done') return DONE;
    let data = chunk;
    if (this.phase === 'head') {
      const buf: Buffer = this.headBuf ? Buffer.concat([this.headBuf, chunk]) : chunk;
      const end = headerEnd(buf);
      if (end === -1) {
        if (buf.length > this.maxHeaderBytes) {
          return failed('too-large', `response header larger than ${this.maxHeaderBytes} bytes`);
        }
        this.headBuf = buf;
        return MORE;
      }
      if (end.headLength > this.maxHeaderBytes) {
        return failed('too-large', `response header larger than ${this.maxHeaderBytes} bytes`);
      }
      this.headBuf = null;
      const parsed = parseHead(buf.subarray(0, end.headLength).toString('latin1'));
      if ('reason' in parsed) return failed(parsed.reason, parsed.message);
      if (!this.sink.head(parsed)) {
        this.phase = 'done';
        return DONE;
      }
      if (parsed.chunked) this.phase = 'chunk-size';
      else if (parsed.contentLength !== null) {
        this.phase = 'length';
        this.remaining = parsed.contentLength;
      } else this.phase = 'close';
      data = buf.subarray(end.bodyStart);
      if (this.phase === 'length' && this.remaining === 0) return this.finish();
    }
    if (data.length === 0) return MORE;
    return this.body(data);
  }

  /** The peer closed the connection. */
  end(): ParseStep {
    switch (this.phase) {
      case 'done':
        return DONE;
      case 'close':
        return this.finish();
      case 'head':
        return this.headBuf
          ? failed('protocol', 'connection closed before the response header was complete')
          : failed('protocol', 'connection closed without a response');
      case 'length':
        return failed('protocol', `connection closed after ${this.bodyBytes} body bytes, Content-Length promised ${this.bodyBytes + this.remaining}`);
      default:
        return failed('protocol', `connection closed inside a chunked body after ${this.bodyBytes} bytes`);
    }
  }

  private finish(): ParseStep {
    this.phase = 'done';
    return DONE;
  }

  private body(data: Buffer): ParseStep {
    if (this.phase === 'length' && data.length > this.remaining) data = data.subarray(0, this.remaining);
    const room = this.maxBodyBytes - this.bodyBytes;
    if (data.length > room) {
      return failed('too-large', `response body larger than the ${this.maxBodyBytes}-byte limit`);
    }
    this.bodyBytes += data.length;
    this.sink.wire(data);
    if (this.phase === 'close') {
      this.sink.payload(data);
      return MORE;
    }
    if (this.phase === 'length') {
      this.sink.payload(data);
      this.remaining -= data.length;
      return this.remaining === 0 ? this.finish() : MORE;
    }
    return this.chunks(data);
  }

  /** Walks the chunk framing so the end of the body is known without waiting for close. */
  private chunks(data: Buffer): ParseStep {
    let i = 0;
    while (i < data.length) {
      switch (this.phase) {
        case 'chunk-size':
        case 'trailer': {
          const nl = data.indexOf(0x0a, i);
          const piece = data.toString('latin1', i, nl === -1 ? data.length : nl);
          this.line += piece;
          if (this.line.length > MAX_CHUNK_LINE) return failed('protocol', 'chunk-size or trailer line too long');
          if (nl === -1) return MORE;
          i = nl + 1;
          const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
          this.line = '';
          if (this.phase === 'trailer') {
            if (line === '') return this.finish();
            break;
          }
          const m = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?$/.exec(line);
          if (!m) return failed('protocol', `bad chunk size line ${JSON.stringify(line.slice(0, 40))}`);
          this.remaining = parseInt(m[1] as string, 16);
          this.phase = this.remaining === 0 ? 'trailer' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.remaining, data.length - i);
          this.sink.payload(data.subarray(i, i + n));
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) {
            this.phase = 'chunk-crlf';
            this.line = '';
          }
          break;
        }
        case 'chunk-crlf': {
          const c = data[i] as number;
          i += 1;
          if (c === 0x0d && this.line === '') this.line = '\r';
          else if (c === 0x0a) {
            this.line = '';
            this.phase = 'chunk-size';
          } else return failed('protocol', 'chunk data not followed by CRLF');
          break;
        }
        default:
          return DONE;
      }
    }
    return MORE;
  }
}

/** Finds the blank line ending the header (CRLFCRLF, or bare LFLF from sloppy servers). */
function headerEnd(buf: Buffer): { headLength: number; bodyStart: number } | -1 {
  const crlf = buf.indexOf('\r\n\r\n', 0, 'latin1');
  const lf = buf.indexOf('\n\n', 0, 'latin1');
  if (crlf !== -1 && (lf === -1 || crlf + 2 <= lf)) return { headLength: crlf, bodyStart: crlf + 4 };
  if (lf !== -1) return { headLength: lf, bodyStart: lf + 2 };
  return -1;
}

export function parseHead(raw: string): ResponseHead | { reason: FailReason; message: string } {
  const lines = raw.split(/\r?\n/);
  const statusLine = lines[0] ?? '';
  const m = STATUS_LINE.exec(statusLine);
  if (!m) return { reason: 'protocol', message: `not an HTTP/1.x status line: ${JSON.stringify(statusLine.slice(0, 60))}` };
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    if (colon <= 0) return { reason: 'protocol', message: `header line ${i + 1} has no name: ${JSON.stringify(line.slice(0, 60))}` };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  const te = headers.get('transfer-encoding');
  const chunked = te !== undefined && /(?:^|,)\s*chunked\s*$/i.test(te);
  let contentLength: number | null = null;
  const cl = headers.get('content-length');
  if (!chunked && cl !== undefined) {
    // Repeated identical values arrive joined ("10, 10"); differing ones are a smuggling sign.
    const values = new Set(cl.split(',').map((v) => v.trim()));
    const only = values.size === 1 ? [...values][0] : undefined;
    if (only === undefined || !/^\d{1,15}$/.test(only)) {
      return { reason: 'protocol', message: `bad Content-Length ${JSON.stringify(cl.slice(0, 40))}` };
    }
    contentLength = Number(only);
  }
  return {
    version: m[1] === '1' ? '1.1' : '1.0',
    status: Number(m[2]),
    statusLine,
    headers,
    raw,
    contentLength,
    chunked,
  };
}
