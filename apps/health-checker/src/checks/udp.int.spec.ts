import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { startUdpServer } from './testing/servers.js';
import { udpCheck } from './udp.js';

/** A UDP port that was free a moment ago: bound, then closed, so datagrams to it draw ICMP port unreachable. */
async function closedUdpPort(family: 'udp4' | 'udp6' = 'udp4'): Promise<number> {
  const s = createSocket(family);
  await new Promise<void>((r) => s.bind(0, family === 'udp4' ? '127.0.0.1' : '::1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('UDP check against a UDP echo server', () => {
  it('is up on an echoed payload matching the expected reply pattern', async () => {
    const echo = await startUdpServer((m) => m);
    try {
      const r = await udpCheck({ address: '127.0.0.1', port: echo.port }, { timeoutMs: 5000, payloadHex: 'de ad be ef', replyPattern: 'dexxbe', minReplyLength: 4, maxReplyLength: 4 });
      expect(r).toMatchObject({ ok: true });
      expect(r.latencyMs).toBeLessThan(500);
    } finally {
      echo.close();
    }
  });

  it('fails reply when the reply differs or its length is outside the bounds', async () => {
    const echo = await startUdpServer((m) => m);
    try {
      const target = { address: '127.0.0.1', port: echo.port };
      expect(await udpCheck(target, { timeoutMs: 5000, payloadHex: 'cafe', replyPattern: 'beef' })).toMatchObject({ ok: false, reason: 'reply', message: 'reply starts cafe, expected beef' });
      expect(await udpCheck(target, { timeoutMs: 5000, payloadHex: 'cafe', requireReply: true, minReplyLength: 3 })).toMatchObject({ ok: false, reason: 'reply', message: 'reply of 2 bytes, expected at least 3' });
    } finally {
      echo.close();
    }
  });

  it('fails refused on ICMP port unreachable (IPv4 and IPv6), with or without a required reply', async () => {
    expect(await udpCheck({ address: '127.0.0.1', port: await closedUdpPort() }, { timeoutMs: 5000 })).toMatchObject({ ok: false, reason: 'refused', message: expect.stringMatching(/answered ICMP port unreachable/) });
    expect(await udpCheck({ address: '::1', port: await closedUdpPort('udp6') }, { timeoutMs: 5000, requireReply: true })).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('without require_reply, a silent server is up once the timeout passes with no ICMP error', async () => {
    const silent = await startUdpServer(() => null);
    try {
      const r = await udpCheck({ address: '127.0.0.1', port: silent.port }, { timeoutMs: 300 });
      expect(r).toMatchObject({ ok: true });
      expect(r.latencyMs).toBeGreaterThanOrEqual(290);
      expect(await udpCheck({ address: '127.0.0.1', port: silent.port }, { timeoutMs: 300, requireReply: true })).toMatchObject({
        ok: false,
        reason: 'timeout',
        message: 'no answer within 300 ms while waiting for a reply',
      });
    } finally {
      silent.close();
    }
  });

  it('sends from the configured source address and port', async () => {
    let from = '';
    const echo = await startUdpServer(() => null);
    const spy = createSocket('udp4');
    await new Promise<void>((r) => spy.bind(0, '127.0.0.1', r));
    spy.on('message', (_m, rinfo) => (from = `${rinfo.address}:${rinfo.port}`));
    const port = spy.address().port;
    echo.close();
    try {
      const source = await closedUdpPort();
      await udpCheck({ address: '127.0.0.1', port }, { timeoutMs: 200, source: { address: '127.0.0.4', port: source } });
      expect(from).toBe(`127.0.0.4:${source}`);
    } finally {
      spy.close();
    }
  });

  it('refuses a payload that is not hex, without throwing', async () => {
    expect(await udpCheck({ address: '127.0.0.1', port: 9 }, { timeoutMs: 100, payloadHex: 'xyz' })).toMatchObject({ ok: false, reason: 'error', message: expect.stringMatching(/not an even number of hex digits/) });
  });
});
