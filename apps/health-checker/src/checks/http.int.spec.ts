import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, makeTempDir, startNginx, type NginxServer } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genhash } from '../genhash/genhash.js';
import { httpCheck, type HttpCheckSpec } from './http.js';
import { CERT_NAME, makeTestCerts, type TestCerts } from './testing/certs.js';
import { startRawServer } from './testing/servers.js';
import type { CheckResult } from './types.js';

const PAGE = '<html><body>fulcrum real server 1 OK</body></html>\n';
const PAGE_MD5 = createHash('md5').update(PAGE).digest('hex');
const CHUNKED_SOURCE = 'alpha beta gamma\n'.repeat(50);

let nginx: NginxServer;
let certs: TestCerts;
let plain: number;
let tlsValid: number;
let tlsExpired: number;
let tlsSelfSigned: number;
const local = (port: number) => ({ address: '127.0.0.1', port });
const spec = (s: Partial<HttpCheckSpec> = {}): HttpCheckSpec => ({ path: '/index.html', timeoutMs: 5000, ...s });

/** keepalived 2.2.7's own genhash: the reference for what a digest must be. */
function keepalivedGenhash(args: string[]): string {
  const out = execFileSync('keepalived', ['--genhash', '-s', '127.0.0.1', ...args], { encoding: 'utf8', timeout: 10_000 });
  const m = /^([0-9a-f]{32})$/m.exec(out);
  if (!m) throw new Error(`keepalived --genhash printed no digest:\n${out}`);
  return m[1] as string;
}

beforeAll(async () => {
  certs = makeTestCerts(makeTempDir('check-certs'));
  [tlsValid, tlsExpired, tlsSelfSigned] = [await freePort(), await freePort(), await freePort()];
  const tls = (port: number, c: { cert: string; key: string }) => `listen 127.0.0.1:${port} ssl; ssl_certificate ${c.cert}; ssl_certificate_key ${c.key};`;
  nginx = await startNginx({
    sites: [
      {
        files: { 'index.html': PAGE, 'chunked/page.html': CHUNKED_SOURCE },
        directives: [
          tls(tlsValid, certs.valid),
          'location = /down { return 503 "maintenance\\n"; }',
          'location = /host { return 200 "host=$host\\n"; }',
          'location = /sni { return 200 "sni=$ssl_server_name\\n"; }',
          // sub_filter drops Content-Length, so HTTP/1.1 clients get a chunked body.
          "location /chunked/ { sub_filter 'beta' 'BETA'; sub_filter_once off; sub_filter_types *; }",
        ].join('\n    '),
      },
      { files: { 'index.html': PAGE }, directives: tls(tlsExpired, certs.expired) },
      { files: { 'index.html': PAGE }, directives: tls(tlsSelfSigned, certs.selfSigned) },
    ],
  });
  plain = (nginx.sites[0] as { port: number }).port;
  // 100 MB of zeros, sparse: cheap to make, real to serve.
  const big = join((nginx.sites[0] as { root: string }).root, 'big.bin');
  writeFileSync(big, '');
  truncateSync(big, 100 * 1024 * 1024);
});

afterAll(async () => {
  await nginx?.dispose();
});

const expectFail = (r: CheckResult, reason: string, message?: RegExp) => {
  expect(r).toMatchObject({ ok: false, reason });
  if (message && !r.ok) expect(r.message).toMatch(message);
};

describe('HTTP check against nginx', () => {
  it('is up with the right status and the MD5 keepalived computes for the page', async () => {
    expect(keepalivedGenhash(['-p', String(plain), '-u', '/index.html'])).toBe(PAGE_MD5);
    const r = await httpCheck(local(plain), spec({ digest: PAGE_MD5 }));
    expect(r).toMatchObject({ ok: true });
    expect(r.latencyMs).toBeGreaterThan(0);
  });

  it('fails with the digest reason and both digests when the body changed', async () => {
    const r = await httpCheck(local(plain), spec({ digest: '0'.repeat(32) }));
    expectFail(r, 'digest', new RegExp(`body MD5 ${PAGE_MD5}, expected 0{32}`));
  });

  it('fails on a status outside the accepted ranges, and accepts it when listed', async () => {
    expectFail(await httpCheck(local(plain), spec({ path: '/down' })), 'status', /^HTTP 503, expected 200-299$/);
    expect(await httpCheck(local(plain), spec({ path: '/down', statusCodes: [[200, 299], [503, 503]] }))).toMatchObject({ ok: true });
    expectFail(await httpCheck(local(plain), spec({ path: '/missing' })), 'status', /^HTTP 404/);
  });

  it('matches the body against a regex, or its absence with regexNoMatch', async () => {
    expect(await httpCheck(local(plain), spec({ regex: 'server \\d OK' }))).toMatchObject({ ok: true });
    expectFail(await httpCheck(local(plain), spec({ regex: 'server \\d OK', regexNoMatch: true })), 'regex', /must not match/);
    expectFail(await httpCheck(local(plain), spec({ regex: 'FAILED' })), 'regex', /does not match \/FAILED\//);
  });

  it('sends the virtualhost as Host, and address:port without one', async () => {
    expect(await httpCheck(local(plain), spec({ path: '/host', virtualhost: CERT_NAME, regex: '^host=www\\.fulcrum\\.test\n$' }))).toMatchObject({ ok: true });
    expect(await httpCheck(local(plain), spec({ path: '/host', regex: '^host=127\\.0\\.0\\.1\n$' }))).toMatchObject({ ok: true });
  });

  it('reads a chunked HTTP/1.1 body: regex on the payload, digest on the wire bytes as keepalived does', async () => {
    const expected = keepalivedGenhash(['-p', String(plain), '-u', '/chunked/page.html', '-P', '1.1']);
    const mine = await genhash({ url: `http://127.0.0.1:${plain}/chunked/page.html`, httpVersion: '1.1' });
    expect(mine).toMatchObject({ ok: true, status: 200, digest: expected });
    expect(mine.ok && mine.header).toMatch(/Transfer-Encoding: chunked/i);
    const r = await httpCheck(local(plain), spec({ path: '/chunked/page.html', httpVersion: '1.1', digest: expected, regex: '^(alpha BETA gamma\\n){50}$' }));
    expect(r).toMatchObject({ ok: true });
    // HTTP/1.0 gets the same text close-delimited, so the same digest as keepalived's default.
    const v10 = keepalivedGenhash(['-p', String(plain), '-u', '/chunked/page.html']);
    expect(v10).toBe(createHash('md5').update(CHUNKED_SOURCE.replaceAll('beta', 'BETA')).digest('hex'));
    expect(await httpCheck(local(plain), spec({ path: '/chunked/page.html', digest: v10 }))).toMatchObject({ ok: true });
  });

  it('uses the configured source address (seen in nginx access log)', async () => {
    expect(await httpCheck(local(plain), spec({ path: '/index.html?from=src', source: { address: '127.0.0.2' } }))).toMatchObject({ ok: true });
    await sleep(100);
    const log = readFileSync(join(nginx.dir, 'logs', 'access.log'), 'utf8');
    expect(log).toMatch(/^127\.0\.0\.2 .*GET \/index\.html\?from=src HTTP\/1\.0" 200/m);
  });

  it('fails refused on a port nobody listens on', async () => {
    expectFail(await httpCheck(local(await freePort()), spec()), 'refused', /connection refused by 127\.0\.0\.1:\d+/);
  });

  it('gives up at the body cap on a 100 MB body when digesting, and stops at the header otherwise', async () => {
    const started = performance.now();
    const r = await httpCheck(local(plain), spec({ path: '/big.bin', digest: PAGE_MD5, maxBodyBytes: 1 << 20 }));
    expectFail(r, 'too-large', /larger than the 1048576-byte limit/);
    // 'too-large', not 'timeout': it stopped at the cap, long before 100 MB or the deadline.
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await httpCheck(local(plain), spec({ path: '/big.bin' }))).toMatchObject({ ok: true });
  });
});

describe('HTTPS check against nginx', () => {
  const tls = (port: number, t: HttpCheckSpec['tls'], s: Partial<HttpCheckSpec> = {}) => httpCheck(local(port), spec({ tls: t, ...s }));

  it('is up over TLS with the page digest, verifying chain and name against the test CA with SNI', async () => {
    expect(await tls(tlsValid, { verify: true, caFile: certs.ca, sni: CERT_NAME }, { digest: PAGE_MD5 })).toMatchObject({ ok: true });
    expect(keepalivedGenhash(['-S', '-p', String(tlsValid), '-u', '/index.html'])).toBe(PAGE_MD5);
    expect(await genhash({ url: `https://127.0.0.1:${tlsValid}/index.html` })).toMatchObject({ ok: true, digest: PAGE_MD5 });
  });

  it('sends SNI only when asked, with the configured name', async () => {
    expect(await tls(tlsValid, { verify: false, sni: 'sni.fulcrum.test' }, { path: '/sni', regex: '^sni=sni\\.fulcrum\\.test\n$' })).toMatchObject({ ok: true });
    expect(await tls(tlsValid, { verify: false }, { path: '/sni', virtualhost: CERT_NAME, regex: '^sni=\n$' })).toMatchObject({ ok: true });
  });

  it('refuses an expired certificate when verifying, and ignores it without verification (keepalived default)', async () => {
    expectFail(await tls(tlsExpired, { verify: true, caFile: certs.ca, sni: CERT_NAME }), 'tls', /expired/i);
    expect(await tls(tlsExpired, { verify: false })).toMatchObject({ ok: true });
  });

  it('refuses an untrusted (self-signed) certificate and a name the certificate does not carry', async () => {
    expectFail(await tls(tlsSelfSigned, { verify: true, caFile: certs.ca, sni: CERT_NAME }), 'tls', /self[- ]signed/i);
    expectFail(await tls(tlsValid, { verify: true, caFile: certs.ca, sni: 'other.fulcrum.test' }), 'tls', /other\.fulcrum\.test/);
    expectFail(await tls(tlsValid, { verify: true, sni: CERT_NAME }), 'tls');
  });

  it('fails tls when the port speaks plain HTTP', async () => {
    expectFail(await tls(plain, { verify: false }), 'tls');
  });
});

describe('HTTP check against misbehaving servers', () => {
  it('fails protocol on binary garbage', async () => {
    const srv = await startRawServer((s) => s.end(Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n\x00\xff', 'latin1')));
    try {
      expectFail(await httpCheck(local(srv.port), spec()), 'protocol', /not an HTTP\/1.x status line/);
    } finally {
      await srv.close();
    }
  });

  it('fails too-large on a server that sends forever, within the timeout', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const srv = await startRawServer((s) => {
      s.write('HTTP/1.0 200 OK\r\n\r\n');
      const pump = () => {
        while (!s.destroyed && s.write(chunk));
      };
      s.on('drain', pump);
      pump();
    });
    try {
      const started = performance.now();
      expectFail(await httpCheck(local(srv.port), spec({ digest: PAGE_MD5, maxBodyBytes: 4 << 20 })), 'too-large');
      expect(performance.now() - started).toBeLessThan(5000);
      // An endless header is capped too.
      const header = await startRawServer((s) => {
        s.write('HTTP/1.0 200 OK\r\n');
        const pump = () => {
          while (!s.destroyed && s.write('X-Junk: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'));
        };
        s.on('drain', pump);
        pump();
      });
      try {
        expectFail(await httpCheck(local(header.port), spec()), 'too-large', /header larger than 16384 bytes/);
      } finally {
        await header.close();
      }
    } finally {
      await srv.close();
    }
  });

  it('times out on a slowloris header trickle at the deadline, not later', async () => {
    const text = 'HTTP/1.1 200 OK\r\nServer: slow\r\n';
    const timers = new Set<NodeJS.Timeout>();
    const srv = await startRawServer((s) => {
      let i = 0;
      const t = setInterval(() => (s.destroyed || i >= text.length ? clearInterval(t) : s.write(text[i++] as string)), 50);
      timers.add(t);
    });
    try {
      const r = await httpCheck(local(srv.port), spec({ timeoutMs: 800 }));
      expectFail(r, 'timeout', /no answer within 800 ms while reading the response header/);
      expect(r.latencyMs).toBeGreaterThanOrEqual(790);
      expect(r.latencyMs).toBeLessThan(3000);
    } finally {
      for (const t of timers) clearInterval(t);
      await srv.close();
    }
  });

  it('times out in the TLS handshake on a silent server and fails tls on garbage instead of a ServerHello', async () => {
    const silent = await startRawServer(() => undefined);
    const garbage = await startRawServer((s) => s.end(Buffer.alloc(300, 0xab)));
    try {
      expectFail(await httpCheck(local(silent.port), spec({ timeoutMs: 500, tls: { verify: false } })), 'timeout', /while in the TLS handshake$/);
      expectFail(await httpCheck(local(garbage.port), spec({ tls: { verify: false } })), 'tls');
    } finally {
      await silent.close();
      await garbage.close();
    }
  });

  it('fails protocol when the server closes before the body promised by Content-Length', async () => {
    const srv = await startRawServer((s) => s.end('HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nshort'));
    try {
      expectFail(await httpCheck(local(srv.port), spec({ digest: PAGE_MD5 })), 'protocol', /after 5 body bytes, Content-Length promised 100/);
    } finally {
      await srv.close();
    }
  });

  it('resolves aborted when cancelled, and leaves no socket or timer behind on any path', async () => {
    const silent = await startRawServer(() => undefined);
    try {
      const before = countHandles();
      const ac = new AbortController();
      const pending = httpCheck(local(silent.port), spec({ timeoutMs: 10_000 }), { signal: ac.signal });
      setTimeout(() => ac.abort(), 100);
      expectFail(await pending, 'aborted', /cancelled while reading the response header/);
      await Promise.all([
        httpCheck(local(silent.port), spec({ timeoutMs: 200 })),
        httpCheck(local(await freePort()), spec()),
        httpCheck(local(plain), spec({ digest: PAGE_MD5 })),
        httpCheck(local(tlsExpired), spec({ tls: { verify: true, caFile: certs.ca } })),
      ]);
      await sleep(50);
      const after = countHandles();
      expect(after.TCPSocketWrap).toBe(before.TCPSocketWrap);
      expect(after.TLSWrap ?? 0).toBe(before.TLSWrap ?? 0);
      expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
    } finally {
      await silent.close();
    }
  });
});

function countHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) if (r === 'TCPSocketWrap' || r === 'Timeout' || r === 'TLSWrap') counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}
