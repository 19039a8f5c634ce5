import { isIP } from 'node:net';
import { httpExchange, type HttpExchange } from '../checks/http.js';
import type { ProbeContext, SourceBinding } from '../checks/types.js';

export interface GenhashOptions {
  /** http:// or https:// URL whose host is an IP address (genhash does not resolve names). */
  url: string;
  /** Host header (and, with --sni, the SNI name), as keepalived's -V. */
  virtualhost?: string;
  /** SNI name for HTTPS; default the virtualhost when it is a name. */
  sni?: string;
  httpVersion?: '1.0' | '1.1';
  timeoutMs?: number;
  /** Largest body digested; default 64 MiB. */
  maxBodyBytes?: number;
  source?: SourceBinding;
}

export type GenhashResult =
  | { ok: true; digest: string; status: number; header: string; bodyBytes: number }
  | { ok: false; message: string };

export class GenhashUrlError extends Error {
  override name = 'GenhashUrlError';
}

/** Splits a genhash URL into target, path and TLS flag; refuses what the check could not fetch. */
export function parseGenhashUrl(url: string): { address: string; port: number; path: string; tls: boolean } {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new GenhashUrlError(`--url ${JSON.stringify(url)} is not a URL`, { cause: err });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new GenhashUrlError(`--url ${JSON.stringify(url)}: scheme must be http or https, not ${u.protocol.replace(':', '')}`);
  }
  const address = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(address) === 0) {
    throw new GenhashUrlError(`--url ${JSON.stringify(url)}: host must be an IP address (checks do not resolve names); put the name in --virtualhost`);
  }
  if (u.username || u.password) throw new GenhashUrlError(`--url ${JSON.stringify(url)}: credentials in the URL are not supported`);
  const tls = u.protocol === 'https:';
  return { address, port: u.port ? Number(u.port) : tls ? 443 : 80, path: `${u.pathname}${u.search}`, tls };
}

/**
 * The MD5 digest keepalived's HTTP_GET/SSL_GET compares with its `digest`, computed as keepalived
 * does: over the body bytes as received after the header (up to Content-Length; a chunked body
 * with its chunk framing), whatever the status. Does not throw for network failures.
 */
export async function genhash(opts: GenhashOptions, ctx?: ProbeContext): Promise<GenhashResult> {
  const { address, port, path, tls } = parseGenhashUrl(opts.url);
  let seen: HttpExchange | undefined;
  const result = await httpExchange(
    { address, port },
    {
      path,
      timeoutMs: opts.timeoutMs ?? 5000,
      maxBodyBytes: opts.maxBodyBytes ?? 64 << 20,
      ...(opts.virtualhost !== undefined ? { virtualhost: opts.virtualhost } : {}),
      ...(opts.httpVersion !== undefined ? { httpVersion: opts.httpVersion } : {}),
      ...(opts.source !== undefined ? { source: opts.source } : {}),
      ...(tls ? { tls: { verify: false, ...(opts.sni !== undefined ? { sni: opts.sni } : {}) } } : {}),
    },
    ctx,
    { digest: true, body: false },
    (x) => {
      seen = x;
      return null;
    },
  );
  if (!result.ok) return { ok: false, message: `${result.reason}: ${result.message}` };
  if (!seen?.digest) return { ok: false, message: 'no response' };
  return { ok: true, digest: seen.digest, status: seen.head.status, header: seen.head.raw, bodyBytes: seen.bodyBytes };
}
