import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { SecureContext } from 'node:tls';
import { checkServerIdentity, createSecureContext } from 'node:tls';
import { failedNow, runAttempt } from './attempt.js';
import type { ResponseHead } from './http-response.js';
import { HttpResponseParser } from './http-response.js';
import { openStream } from './socket.js';
import type { CheckResult, Endpoint, FailReason, NetworkProbeSpec, ProbeContext } from './types.js';

export interface TlsSpec {
  /** SNI name (keepalived's enable_sni / sni_name); none is sent without it. */
  sni?: string;
  /** Verify the certificate chain and name (keepalived's SSL_GET does not; default false). */
  verify?: boolean;
  /** PEM file of the CAs to trust when verifying; default: Node's bundled roots. */
  caFile?: string;
  /** The name the certificate must carry; default: SNI, then virtualhost, then the address. */
  verifyName?: string;
}

export interface HttpCheckSpec extends NetworkProbeSpec {
  path: string;
  /** Accepted status codes as inclusive ranges; default 200-299. */
  statusCodes?: ReadonlyArray<readonly [number, number]>;
  /** keepalived's digest: MD5 (hex) of the body as genhash prints it. */
  digest?: string;
  regex?: string;
  /** keepalived's regex_no_match: a match fails the check. */
  regexNoMatch?: boolean;
  /** Host header; default `address:port` as keepalived sends it. */
  virtualhost?: string;
  /** keepalived's http_protocol: 1.0C is 1.0 plus "Connection: close"; default 1.0. */
  httpVersion?: '1.0' | '1.0C' | '1.1';
  /** Present for HTTPS (keepalived's SSL_GET). */
  tls?: TlsSpec;
  /** Largest body read for the digest or the regex; default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest response header; default 16 KiB. */
  maxHeaderBytes?: number;
}

export const DEFAULT_STATUS_CODES: ReadonlyArray<readonly [number, number]> = [[200, 299]];
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;
export const DEFAULT_MAX_HEADER_BYTES = 16 << 10;

/** What an exchange saw, for genhash and for callers that want more than up/down. */
export interface HttpExchange {
  head: ResponseHead;
  /** Body bytes read (chunk framing included). */
  bodyBytes: number;
  /** MD5 hex of the body as keepalived computes it, when asked for. */
  digest?: string;
  body?: string;
}

/** keepalived's HTTP_GET / SSL_GET for one URL. */
export function httpCheck(target: Endpoint, spec: HttpCheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  let regex: RegExp | undefined;
  try {
    regex = spec.regex === undefined ? undefined : compiledRegex(spec.regex);
  } catch (err) {
    return failedNow('error', (err as Error).message);
  }
  const want = { digest: spec.digest !== undefined, body: regex !== undefined };
  return httpExchange(target, spec, ctx, want, (x) => judge(x, spec, regex));
}

/** Fetches `spec.path` and hands the exchange to `judge` (null = up) before the socket closes. */
export function httpExchange(
  target: Endpoint,
  spec: HttpCheckSpec,
  ctx: ProbeContext | undefined,
  want: { digest: boolean; body: boolean },
  judge: (exchange: HttpExchange) => [FailReason, string] | null,
): Promise<CheckResult> {
  return runAttempt(ctx, spec.timeoutMs, (attempt) => {
    const request = buildRequest(target, spec);
    const socket = openStream(target, spec.source, attempt, spec.tls ? tlsOptions(target, spec, spec.tls) : undefined);
    let hash: Hash | undefined;
    const bodyParts: Buffer[] = [];
    let head: ResponseHead | undefined;
    const parser = new HttpResponseParser(
      {
        head: (h) => {
          head = h;
          attempt.phase = 'reading the body';
          if (want.digest) hash = createHash('md5');
          return want.digest || want.body;
        },
        wire: (bytes) => hash?.update(bytes),
        payload: (bytes) => {
          if (want.body) bodyParts.push(bytes);
        },
      },
      spec.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
      spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    );
    const complete = (): void => {
      if (!head) return;
      const exchange: HttpExchange = { head, bodyBytes: parser.bodyLength };
      // keepalived digests an empty body too; md5 of nothing when no body byte arrived.
      if (want.digest) exchange.digest = (hash ?? createHash('md5')).digest('hex');
      if (want.body) exchange.body = Buffer.concat(bodyParts).toString('utf8');
      let verdict: [FailReason, string] | null;
      try {
        verdict = judge(exchange);
      } catch (err) {
        // This runs in a socket callback: a throw here would be uncaught, so it becomes the outcome.
        verdict = ['error', `judging the response failed: ${(err as Error).message}`];
      }
      if (verdict) attempt.fail(verdict[0], verdict[1]);
      else attempt.succeed();
    };
    const step = (s: ReturnType<HttpResponseParser['push']>): void => {
      if (s.state === 'done') complete();
      else if (s.state === 'failed') attempt.fail(s.reason, s.message);
    };
    socket.once(spec.tls ? 'secureConnect' : 'connect', () => {
      attempt.phase = 'reading the response header';
      socket.write(request);
    });
    if (spec.tls) socket.once('connect', () => (attempt.phase = 'in the TLS handshake'));
    socket.on('data', (chunk: Buffer) => {
      if (!attempt.settled) step(parser.push(chunk));
    });
    const closed = (): void => {
      if (!attempt.settled) step(parser.end());
    };
    socket.once('end', closed);
    // A TLS socket can close without 'end'; errors settle first through openStream.
    socket.once('close', closed);
    return () => socket.destroy();
  });
}

function judge(x: HttpExchange, spec: HttpCheckSpec, regex: RegExp | undefined): [FailReason, string] | null {
  const ranges = spec.statusCodes ?? DEFAULT_STATUS_CODES;
  if (!ranges.some(([lo, hi]) => x.head.status >= lo && x.head.status <= hi)) {
    return ['status', `HTTP ${x.head.status}, expected ${formatRanges(ranges)}`];
  }
  if (spec.digest !== undefined && x.digest !== spec.digest.toLowerCase()) {
    return ['digest', `body MD5 ${x.digest}, expected ${spec.digest.toLowerCase()} (${x.bodyBytes} bytes read)`];
  }
  if (regex && x.body !== undefined) {
    regex.lastIndex = 0;
    const matched = regex.test(x.body);
    if (matched && spec.regexNoMatch) return ['regex', `body matches /${regex.source}/, which must not match`];
    if (!matched && !spec.regexNoMatch) return ['regex', `body does not match /${regex.source}/`];
  }
  return null;
}

export function formatRanges(ranges: ReadonlyArray<readonly [number, number]>): string {
  return ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(', ');
}

/** Characters that would let a config value end the request line or a header. */
const UNSAFE = /[\s\u0000-\u001f\u007f]/;

/** The GET request keepalived sends, with our User-Agent; refuses values that would inject headers. */
export function buildRequest(target: Endpoint, spec: Pick<HttpCheckSpec, 'path' | 'virtualhost' | 'httpVersion'>): string {
  if (!spec.path.startsWith('/') || UNSAFE.test(spec.path)) {
    throw new Error(`path ${JSON.stringify(spec.path)} must start with / and hold no spaces or control characters`);
  }
  if (spec.virtualhost !== undefined && (spec.virtualhost === '' || UNSAFE.test(spec.virtualhost))) {
    throw new Error(`virtualhost ${JSON.stringify(spec.virtualhost)} must be a non-empty name without spaces or control characters`);
  }
  const host =
    spec.virtualhost ?? (isIP(target.address) === 6 ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`);
  const v11 = spec.httpVersion === '1.1';
  const close = v11 || spec.httpVersion === '1.0C';
  return (
    `GET ${spec.path} HTTP/1.${v11 ? 1 : 0}\r\n` +
    'User-Agent: fulcrum-health-checker\r\n' +
    (close ? 'Connection: close\r\n' : '') +
    `Host: ${host}\r\n\r\n`
  );
}

function tlsOptions(target: Endpoint, spec: HttpCheckSpec, tls: TlsSpec) {
  const name = tls.verifyName ?? tls.sni ?? spec.virtualhost ?? target.address;
  return {
    // RFC 6066 forbids an address as SNI; Node warns about it.
    ...(tls.sni !== undefined && isIP(tls.sni) === 0 ? { servername: tls.sni } : {}),
    rejectUnauthorized: tls.verify === true,
    ...(tls.caFile !== undefined ? { secureContext: secureContextFor(tls.caFile) } : {}),
    checkServerIdentity: (_host: string, cert: Parameters<typeof checkServerIdentity>[1]) => checkServerIdentity(name, cert),
  };
}

// Parsing a CA bundle costs far more than a probe: one context per file, loaded on first use.
const contexts = new Map<string, SecureContext>();
function secureContextFor(caFile: string): SecureContext {
  let ctx = contexts.get(caFile);
  if (!ctx) {
    ctx = createSecureContext({ ca: readFileSync(caFile) });
    contexts.set(caFile, ctx);
  }
  return ctx;
}

/** Forgets loaded CA files (after a config reload that may have replaced them). */
export function clearTlsCache(): void {
  contexts.clear();
}

const regexes = new Map<string, RegExp>();
function compiledRegex(source: string): RegExp {
  let re = regexes.get(source);
  if (!re) {
    try {
      re = new RegExp(source);
    } catch (err) {
      throw new Error(`regex ${JSON.stringify(source)} is not valid: ${(err as Error).message}`);
    }
    if (regexes.size > 1000) regexes.clear();
    regexes.set(source, re);
  }
  return re;
}
