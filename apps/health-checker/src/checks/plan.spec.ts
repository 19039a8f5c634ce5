import { healthCheck } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { planCheck, statusRange } from './plan.js';

const rs = { address: '10.0.0.11', port: 80 };
const plan = (input: unknown) => planCheck(healthCheck.parse(input), rs, { heloName: 'director1.example' });

describe('planCheck (schema -> probes + keepalived schedule)', () => {
  it('gives a TCP check keepalived defaults: 60 s loop, 5 s timeout, 1 retry 1 s apart, warmup up to the loop', () => {
    expect(plan({ type: 'tcp' })).toEqual({
      target: rs,
      probes: [{ type: 'tcp', timeoutMs: 5000 }],
      schedule: { intervalMs: 60000, retry: 1, delayBeforeRetryMs: 1000, warmupMs: 60000, alpha: false, rise: 1, fall: 1 },
      unsupported: [],
    });
  });

  it('applies connectIp/connectPort and bindTo/bindPort', () => {
    const p = plan({ type: 'tcp', connectIp: '10.0.0.99', connectPort: 8080, bindTo: '10.0.0.2', bindPort: 40000, warmup: 0 });
    expect(p.target).toEqual({ address: '10.0.0.99', port: 8080 });
    expect(p.probes[0]).toMatchObject({ source: { address: '10.0.0.2', port: 40000 } });
    expect(p.schedule.warmupMs).toBe(0);
  });

  it('makes one HTTPS probe per URL with status ranges, digest, SNI from the virtual host and verification', () => {
    const p = plan({
      type: 'https',
      virtualHost: 'www.example.test',
      sni: true,
      verifyTls: true,
      ca: '/etc/ssl/ca.pem',
      httpVersion: '1.1',
      urls: [
        { path: '/', statusCodes: ['200-299', 301], digest: 'D41D8CD98F00B204E9800998ECF8427E' },
        { path: '/health', virtualHost: 'health.example.test', regex: 'OK' },
      ],
    });
    expect(p.probes).toEqual([
      {
        type: 'http',
        timeoutMs: 5000,
        path: '/',
        statusCodes: [[200, 299], [301, 301]],
        httpVersion: '1.1',
        digest: 'd41d8cd98f00b204e9800998ecf8427e',
        virtualhost: 'www.example.test',
        tls: { verify: true, caFile: '/etc/ssl/ca.pem', sni: 'www.example.test' },
      },
      {
        type: 'http',
        timeoutMs: 5000,
        path: '/health',
        statusCodes: [[200, 299]],
        httpVersion: '1.1',
        regex: 'OK',
        regexNoMatch: false,
        virtualhost: 'health.example.test',
        tls: { verify: true, caFile: '/etc/ssl/ca.pem', sni: 'health.example.test' },
      },
    ]);
    expect(p.schedule.delayBeforeRetryMs).toBe(3000);
  });

  it('retries DNS 3 times an interval apart, as keepalived', () => {
    const p = plan({ type: 'dns', interval: 10, queryType: 'A', name: 'example.test' });
    expect(p.probes).toEqual([{ type: 'dns', timeoutMs: 5000, queryType: 'A', queryName: 'example.test' }]);
    expect(p.schedule).toMatchObject({ retry: 3, delayBeforeRetryMs: 10000 });
  });

  it('passes the real server to a script in its environment and defaults its timeout to the interval', () => {
    const p = plan({ type: 'script', path: '/usr/local/bin/check', args: ['--deep'], interval: 7, dynamicWeight: true });
    expect(p.probes[0]).toMatchObject({ type: 'script', argv: ['/usr/local/bin/check', '--deep'], timeoutMs: 7000, dynamic: true });
    expect(p.probes[0]).toMatchObject({ env: { FULCRUM_RS_ADDRESS: '10.0.0.11', FULCRUM_RS_PORT: '80' } });
    expect(p.schedule.retry).toBe(0);
  });

  it('maps UDP require_reply patterns and SMTP helo names', () => {
    expect(plan({ type: 'udp', payload: 'de ad', requireReply: 'dexx' }).probes[0]).toMatchObject({
      payloadHex: 'de ad',
      requireReply: true,
      replyPattern: 'dexx',
      minReplyLength: 0,
      maxReplyLength: 255,
    });
    expect(plan({ type: 'udp' }).probes[0]).toEqual({ type: 'udp', timeoutMs: 5000, requireReply: false });
    expect(plan({ type: 'smtp' }).probes[0]).toMatchObject({ heloName: 'director1.example' });
  });

  it('says which options it cannot honour', () => {
    expect(plan({ type: 'tcp', fwmark: 7 })).toMatchObject({ unsupported: [], probes: [{ type: 'tcp', mark: 7 }] });
    expect(plan({ type: 'udp', fwmark: 7 }).unsupported).toEqual(['fwmark 7: only TCP and ICMP probes (native) set SO_MARK; udp probes go unmarked']);
  });

  it('refuses a port-less check of a port-less real server', () => {
    expect(() => planCheck(healthCheck.parse({ type: 'tcp' }), { address: '10.0.0.1', port: 0 })).toThrow(/needs connectPort/);
  });

  it('reads status codes and ranges', () => {
    expect(statusRange('200-299')).toEqual([200, 299]);
    expect(statusRange('503')).toEqual([503, 503]);
    expect(statusRange(204)).toEqual([204, 204]);
  });
});
