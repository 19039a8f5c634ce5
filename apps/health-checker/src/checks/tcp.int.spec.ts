import { execFileSync } from 'node:child_process';
import { freePort } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeTcpCheck } from './tcp-node.js';
import { tcpCheck, tcpCheckImplementation } from './tcp.js';
import { startBlackholeListener, startRawServer } from './testing/servers.js';

let server: Awaited<ReturnType<typeof startRawServer>>;
beforeAll(async () => {
  server = await startRawServer(() => undefined);
});
afterAll(() => server.close());

it('runs on the native prober on this host', () => {
  expect(tcpCheckImplementation()).toBe('native');
});

// The same behaviour from the native prober (the default) and the net.Socket fallback.
describe.each([
  ['native prober', tcpCheck],
  ['net.Socket fallback', nodeTcpCheck],
])('TCP check (%s)', (_name, tcpCheck) => {
  it('is up when the handshake completes', async () => {
    const r = await tcpCheck({ address: '127.0.0.1', port: server.port }, { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: true });
  });

  it('counts a handshake that completed in time as up even when a busy event loop sees the deadline first', async () => {
    const pending = tcpCheck({ address: '127.0.0.1', port: server.port }, { timeoutMs: 20 });
    // Block the loop past the deadline: the handshake (loopback, done in the kernel) and the timer are then due together.
    const until = performance.now() + 100;
    while (performance.now() < until);
    expect(await pending).toMatchObject({ ok: true });
  });

  it('connects from the configured source address and port (bind before connect)', async () => {
    const port = await freePort('127.0.0.3');
    expect(await tcpCheck({ address: '127.0.0.1', port: server.port }, { timeoutMs: 5000, source: { address: '127.0.0.3', port } })).toMatchObject({ ok: true });
    // The handshake is reset before a server could read its peer: watch the SYN of an unanswered probe instead.
    const hole = await startBlackholeListener();
    try {
      const pending = tcpCheck({ address: '127.0.0.1', port: hole.port }, { timeoutMs: 3000, source: { address: '127.0.0.3', port } });
      let seen = '';
      for (let i = 0; i < 100 && seen === ''; i++) {
        await new Promise((r) => setTimeout(r, 20));
        seen = execFileSync('ss', ['-Htn', 'state', 'syn-sent', 'dst', `127.0.0.1:${hole.port}`], { encoding: 'utf8' }).trim();
      }
      expect(seen).toContain(`127.0.0.3:${port}`);
      expect(await pending).toMatchObject({ ok: false, reason: 'timeout' });
    } finally {
      hole.close();
    }
  });

  it('works over IPv6 loopback', async () => {
    const v6 = await startRawServer(() => undefined, '::1');
    try {
      expect(await tcpCheck({ address: '::1', port: v6.port }, { timeoutMs: 5000 })).toMatchObject({ ok: true });
      await v6.close();
      expect(await tcpCheck({ address: '::1', port: v6.port }, { timeoutMs: 5000 })).toMatchObject({
        ok: false,
        reason: 'refused',
        message: `connection refused by [::1]:${v6.port}`,
      });
    } finally {
      await v6.close();
    }
  });

  it('fails refused when nothing listens', async () => {
    expect(await tcpCheck({ address: '127.0.0.1', port: await freePort() }, { timeoutMs: 5000 })).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('times out at connect_timeout when SYNs go unanswered', async () => {
    const hole = await startBlackholeListener();
    try {
      const r = await tcpCheck({ address: '127.0.0.1', port: hole.port }, { timeoutMs: 500 });
      expect(r).toMatchObject({ ok: false, reason: 'timeout', message: 'no answer within 500 ms while connecting' });
      expect(r.latencyMs).toBeGreaterThanOrEqual(490);
      expect(r.latencyMs).toBeLessThan(2500);
    } finally {
      hole.close();
    }
  });

  it('stops at once when its caller aborts, and before starting when already aborted', async () => {
    const hole = await startBlackholeListener();
    try {
      const ac = new AbortController();
      const pending = tcpCheck({ address: '127.0.0.1', port: hole.port }, { timeoutMs: 5000 }, { signal: ac.signal });
      setTimeout(() => ac.abort(), 50);
      const r = await pending;
      expect(r).toMatchObject({ ok: false, reason: 'aborted', message: 'cancelled while connecting' });
      expect(r.latencyMs).toBeLessThan(2500);
      expect(await tcpCheck({ address: '127.0.0.1', port: hole.port }, { timeoutMs: 5000 }, { signal: ac.signal })).toMatchObject({
        reason: 'aborted',
        message: 'cancelled before it started',
      });
    } finally {
      hole.close();
    }
  });

  it('fails with a clear error for a source address this host does not have, or a name instead of an address', async () => {
    expect(await tcpCheck({ address: '127.0.0.1', port: server.port }, { timeoutMs: 5000, source: { address: '192.0.2.1' } })).toMatchObject({
      ok: false,
      reason: 'error',
      message: expect.stringMatching(/cannot use the source address \(EADDRNOTAVAIL/),
    });
    expect(await tcpCheck({ address: 'real1.example', port: 80 }, { timeoutMs: 5000 })).toMatchObject({
      ok: false,
      reason: 'error',
      message: 'target address "real1.example" is not an IPv4 or IPv6 address',
    });
  });
});
