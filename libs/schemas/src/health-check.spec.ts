import { describe, expect, it } from 'vitest';
import {
  CHECK_DEFAULTS,
  HEALTH_CHECK_TYPES,
  checkPort,
  delayBeforeRetryOf,
  failuresBeforeDown,
  healthCheck,
  statusCodeMatches,
  warmupOf,
} from './health-check.js';
import type { HealthCheck } from './health-check.js';
import { checkContract } from './issues.js';

const parse = (v: unknown): HealthCheck => healthCheck.parse(v);
const problems = (v: unknown) => {
  const r = checkContract(healthCheck, v);
  return r.ok ? [] : r.issues;
};

describe("keepalived's defaults", () => {
  it('tcp: delay_loop 60, connect_timeout 5, retry 1, delay_before_retry 1, warmup up to the interval', () => {
    const c = parse({ type: 'tcp' });
    expect(c).toEqual({ type: 'tcp', interval: 60, connectTimeout: 5, retries: 1, delayBeforeRetry: 1, rise: 1 });
    expect(failuresBeforeDown(c)).toBe(2);
    expect(warmupOf(c)).toBe(60);
    expect(warmupOf(parse({ type: 'tcp', warmup: 0 }))).toBe(0);
  });

  it('http and https: status 200-299, HTTP/1.0, delay_before_retry 3', () => {
    const c = parse({ type: 'http', urls: [{ path: '/' }] });
    expect(c).toMatchObject({ httpVersion: '1.0', delayBeforeRetry: 3, retries: 1, fastRecovery: false });
    if (c.type !== 'http') throw new Error('type');
    expect(c.urls[0]?.statusCodes).toEqual(['200-299']);
    expect(parse({ type: 'https', urls: [{ path: '/' }] })).toMatchObject({ sni: false, verifyTls: false, delayBeforeRetry: 3 });
  });

  it('dns: type SOA, name ".", retry 3, delay before retry = the interval', () => {
    const c = parse({ type: 'dns', interval: 10 });
    expect(c).toMatchObject({ queryType: 'SOA', name: '.', retries: 3 });
    expect(delayBeforeRetryOf(c)).toBe(10);
    expect(failuresBeforeDown(c)).toBe(4);
  });

  it('script: retry 0, timeout = the interval unless set; file: no retries', () => {
    const c = parse({ type: 'script', path: '/usr/local/bin/check' });
    expect(c).toMatchObject({ retries: 0, args: [], dynamicWeight: false });
    expect(failuresBeforeDown(c)).toBe(1);
    const f = parse({ type: 'file', path: '/run/fulcrum/web1' });
    expect(f).toEqual({ type: 'file', path: '/run/fulcrum/web1', weight: 0, reverse: false });
    expect(failuresBeforeDown(f)).toBe(1);
    expect(warmupOf(f)).toBe(0);
  });

  it('udp: reply lengths 0..255; smtp and icmp take the common options', () => {
    expect(parse({ type: 'udp' })).toMatchObject({ requireReply: false, minReplyLength: 0, maxReplyLength: 255 });
    expect(parse({ type: 'smtp', heloName: 'director1.example.com' })).toMatchObject({ retries: 1, connectTimeout: 5 });
    expect(parse({ type: 'icmp', interval: 2 })).toMatchObject({ interval: 2, retries: 1 });
  });

  it('gives each parsed check its own default lists', () => {
    const a = parse({ type: 'http', urls: [{ path: '/' }] });
    if (a.type !== 'http') throw new Error('type');
    a.urls[0]?.statusCodes.push(404);
    const b = parse({ type: 'http', urls: [{ path: '/' }] });
    if (b.type !== 'http') throw new Error('type');
    expect(b.urls[0]?.statusCodes).toEqual(['200-299']);
  });

  it('documents one default per keyword', () => {
    expect(CHECK_DEFAULTS).toMatchObject({ interval: 60, connectTimeout: 5, retries: 1, delayBeforeRetry: 1, httpDelayBeforeRetry: 3 });
    expect(HEALTH_CHECK_TYPES).toEqual(['tcp', 'http', 'https', 'smtp', 'dns', 'udp', 'icmp', 'script', 'file']);
  });
});

describe('rules', () => {
  it('refuses an unknown type with the list of known ones', () => {
    expect(problems({ type: 'SSL_GET' })).toEqual([{ path: 'type', message: 'must be one of: tcp, http, https, smtp, dns, udp, icmp, script, file' }]);
  });

  it('an HTTP check needs a URL; paths start with /', () => {
    expect(problems({ type: 'http', urls: [] })).toEqual([{ path: 'urls', message: 'needs at least one URL to check' }]);
    expect(problems({ type: 'http', urls: [{ path: 'index.html' }] })).toEqual([
      { path: 'urls[0].path', message: 'must start with "/" and contain no spaces' },
    ]);
  });

  it('status codes are codes or ranges that make sense', () => {
    expect(problems({ type: 'http', urls: [{ path: '/', statusCodes: [200, '300-399', 503] }] })).toEqual([]);
    expect(problems({ type: 'http', urls: [{ path: '/', statusCodes: ['299-200'] }] })).toEqual([
      { path: 'urls[0].statusCodes[0]', message: 'range "299-200" ends before it starts' },
    ]);
    expect(problems({ type: 'http', urls: [{ path: '/', statusCodes: ['2xx'] }] })).toEqual([
      { path: 'urls[0].statusCodes[0]', message: '"2xx" is not a status code or a range like "200-299"' },
    ]);
    expect(problems({ type: 'http', urls: [{ path: '/', statusCodes: [600] }] })).toEqual([
      { path: 'urls[0].statusCodes[0]', message: 'must be at most 599' },
    ]);
  });

  it('a regex must compile', () => {
    expect(problems({ type: 'http', urls: [{ path: '/', regex: 'ok(' }] })).toEqual([
      { path: 'urls[0].regex', message: 'is not a valid regular expression' },
    ]);
  });

  it('SNI name only with SNI; CA only when verifying', () => {
    expect(problems({ type: 'https', urls: [{ path: '/' }], sniName: 'www.example.com' })).toEqual([
      { path: 'sniName', message: 'is only used when sni is true' },
    ]);
    expect(problems({ type: 'https', urls: [{ path: '/' }], ca: '/etc/ssl/ca.pem' })).toEqual([
      { path: 'ca', message: 'is only used when verifyTls is true' },
    ]);
    expect(problems({ type: 'https', urls: [{ path: '/' }], sni: true, sniName: 'a.example', verifyTls: true, ca: '/etc/ssl/ca.pem' })).toEqual([]);
  });

  it('TLS options do not exist on a plain HTTP check', () => {
    expect(problems({ type: 'http', urls: [{ path: '/' }], sni: true })).toEqual([{ path: 'sni', message: 'is not a known field (check its spelling)' }]);
  });

  it('UDP reply lengths are ordered and need requireReply', () => {
    expect(problems({ type: 'udp', requireReply: true, minReplyLength: 10, maxReplyLength: 4 })).toEqual([
      { path: 'minReplyLength', message: '(10) must not exceed maxReplyLength (4)' },
    ]);
    expect(problems({ type: 'udp', minReplyLength: 4 })).toEqual([
      { path: 'minReplyLength', message: 'reply lengths are only checked when requireReply is set' },
    ]);
    expect(problems({ type: 'udp', payload: 'zz' })).toEqual([{ path: 'payload', message: 'must be hex digits (spaces allowed between bytes)' }]);
    expect(problems({ type: 'udp', payload: 'de ad be ef', requireReply: 'dead xxxx' })).toEqual([]);
  });

  it('script timeout within the interval; scripts have no connection options', () => {
    expect(problems({ type: 'script', path: '/bin/true', interval: 5, timeout: 10 })).toEqual([
      { path: 'timeout', message: '(10 s) must not exceed the interval (5 s)' },
    ]);
    expect(problems({ type: 'script', path: '/bin/true', connectPort: 80 })).toEqual([
      { path: 'connectPort', message: 'is not a known field (check its spelling)' },
    ]);
  });

  it('connect timeout must be positive; bindInterface needs bindTo', () => {
    expect(problems({ type: 'tcp', connectTimeout: 0 })).toEqual([{ path: 'connectTimeout', message: 'must be greater than 0' }]);
    expect(problems({ type: 'tcp', bindInterface: 'eth0' })).toEqual([{ path: 'bindInterface', message: 'is only used with bindTo' }]);
  });

  it('DNS names are domain names', () => {
    expect(problems({ type: 'dns', name: 'example.com.' })).toEqual([]);
    expect(problems({ type: 'dns', name: 'exa mple' })).toEqual([{ path: 'name', message: 'must be a domain name such as "example.com" or "."' }]);
  });
});

describe('helpers', () => {
  it('statusCodeMatches handles codes and ranges', () => {
    expect(statusCodeMatches(['200-299'], 204)).toBe(true);
    expect(statusCodeMatches(['200-299'], 301)).toBe(false);
    expect(statusCodeMatches([200, '500-503'], 502)).toBe(true);
    expect(statusCodeMatches([200], 201)).toBe(false);
  });

  it('checkPort uses connectPort, else the real server port, and has none for port 0', () => {
    expect(checkPort(parse({ type: 'tcp', connectPort: 8080 }), 80)).toBe(8080);
    expect(checkPort(parse({ type: 'tcp' }), 80)).toBe(80);
    expect(checkPort(parse({ type: 'tcp' }), 0)).toBeUndefined();
  });
});
