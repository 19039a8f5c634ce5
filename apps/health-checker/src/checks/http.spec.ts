import { describe, expect, it } from 'vitest';
import { buildRequest, formatRanges, httpCheck } from './http.js';

describe('buildRequest', () => {
  it('sends keepalived-style HTTP/1.0 with the address as Host by default', () => {
    expect(buildRequest({ address: '10.0.0.1', port: 8080 }, { path: '/health' })).toBe(
      'GET /health HTTP/1.0\r\nUser-Agent: fulcrum-health-checker\r\nHost: 10.0.0.1:8080\r\n\r\n',
    );
  });

  it('adds Connection: close for HTTP/1.1 and uses the virtualhost as Host', () => {
    const req = buildRequest({ address: '2001:db8::1', port: 80 }, { path: '/', httpVersion: '1.1', virtualhost: 'www.example.test' });
    expect(req).toBe('GET / HTTP/1.1\r\nUser-Agent: fulcrum-health-checker\r\nConnection: close\r\nHost: www.example.test\r\n\r\n');
  });

  it('adds Connection: close to HTTP/1.0 for keepalived\'s 1.0C', () => {
    expect(buildRequest({ address: '10.0.0.1', port: 80 }, { path: '/', httpVersion: '1.0C' })).toBe(
      'GET / HTTP/1.0\r\nUser-Agent: fulcrum-health-checker\r\nConnection: close\r\nHost: 10.0.0.1:80\r\n\r\n',
    );
  });

  it('brackets an IPv6 address in Host', () => {
    expect(buildRequest({ address: '::1', port: 81 }, { path: '/' })).toContain('Host: [::1]:81\r\n');
  });

  it.each([
    [{ path: 'health' }, /path "health" must start with \//],
    [{ path: '/a b' }, /path "\/a b" must start with \/ and hold no spaces/],
    [{ path: '/x\r\nX-Injected: 1' }, /path/],
    [{ path: '/', virtualhost: 'a\r\nb' }, /virtualhost/],
  ])('refuses config values that would inject into the request: %j', (spec, message) => {
    expect(() => buildRequest({ address: '127.0.0.1', port: 80 }, spec)).toThrow(message);
  });
});

describe('httpCheck input errors', () => {
  it('resolves (never throws) with a clear error for a bad regex or a non-numeric target', async () => {
    await expect(httpCheck({ address: '127.0.0.1', port: 1 }, { path: '/', timeoutMs: 100, regex: '(' })).resolves.toMatchObject({
      ok: false,
      reason: 'error',
      message: expect.stringMatching(/^regex "\(" is not valid/),
    });
    await expect(httpCheck({ address: 'localhost', port: 1 }, { path: '/', timeoutMs: 100 })).resolves.toMatchObject({
      ok: false,
      reason: 'error',
      message: 'target address "localhost" is not an IPv4 or IPv6 address',
    });
  });

  it('formats status ranges as keepalived writes them', () => {
    expect(formatRanges([[200, 299], [301, 301]])).toBe('200-299, 301');
  });
});
