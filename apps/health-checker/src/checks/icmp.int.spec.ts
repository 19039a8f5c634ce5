import { execFileSync } from 'node:child_process';
import { openIcmpPinger } from '@fulcrum/netlink';
import type { IcmpPinger } from '@fulcrum/netlink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingIcmpCheck } from './icmp-ping.js';
import { icmpCheck, nativeIcmpCheck } from './icmp.js';

// Two namespaces of our own: `prober` (10.99.0.1/24 on veth0) and `router` (10.99.0.2 on veth1,
// forwarding, with 10.96.0.0/24 declared unreachable, so it answers with ICMP host unreachable).
// In `prober`: 10.99.0.3 is on-link but nobody answers ARP, 10.98.0.1 has no route, 10.96.0.0/24
// goes via the router, and packets marked 7 find 10.99.0.0/24 unreachable (a rule and table 100).
const prober = `fulcrum-icmp-${process.pid}`;
const router = `fulcrum-icmpr-${process.pid}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
let pinger: IcmpPinger;

beforeAll(() => {
  ip('netns', 'add', prober);
  ip('netns', 'add', router);
  ip('-n', prober, 'link', 'set', 'lo', 'up');
  ip('-n', router, 'link', 'set', 'lo', 'up');
  ip('-n', prober, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', router);
  ip('-n', prober, 'addr', 'add', '10.99.0.1/24', 'dev', 'veth0');
  ip('-n', router, 'addr', 'add', '10.99.0.2/24', 'dev', 'veth1');
  ip('-n', prober, 'link', 'set', 'veth0', 'up');
  ip('-n', router, 'link', 'set', 'veth1', 'up');
  ip('-n', prober, 'route', 'add', '10.96.0.0/24', 'via', '10.99.0.2');
  ip('-n', router, 'route', 'add', 'unreachable', '10.96.0.0/24');
  ip('netns', 'exec', router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  ip('-n', prober, 'rule', 'add', 'fwmark', '7', 'table', '100');
  ip('-n', prober, 'route', 'add', 'unreachable', '10.99.0.0/24', 'table', '100');
  pinger = openIcmpPinger({ netns: prober });
});
afterAll(async () => {
  await pinger?.close();
  ip('netns', 'del', prober);
  ip('netns', 'del', router);
});

describe('ICMP check (raw sockets through the kernel library)', () => {
  it('is up on an echo reply over IPv4 and IPv6 loopback', async () => {
    expect(await icmpCheck({ address: '127.0.0.1' }, { timeoutMs: 5000 })).toMatchObject({ ok: true });
    expect(await icmpCheck({ address: '::1' }, { timeoutMs: 5000 })).toMatchObject({ ok: true });
  });

  it('sends from the configured source address', async () => {
    expect(await icmpCheck({ address: '127.0.0.1' }, { timeoutMs: 5000, source: { address: '127.0.0.5' } })).toMatchObject({ ok: true });
    expect(await icmpCheck({ address: '127.0.0.1' }, { timeoutMs: 5000, source: { address: '192.0.2.7' } })).toMatchObject({
      ok: false,
      reason: 'error',
      message: expect.stringMatching(/bind .*Cannot assign requested address/),
    });
  });

  it('in a namespace: up across the link, timeout when nobody answers, unreachable without a route or when a router says so', async () => {
    expect(await nativeIcmpCheck(pinger, { address: '10.99.0.2' }, { timeoutMs: 2000 })).toMatchObject({ ok: true });
    const silent = await nativeIcmpCheck(pinger, { address: '10.99.0.3' }, { timeoutMs: 500 });
    expect(silent).toMatchObject({ ok: false, reason: 'timeout', message: 'no echo reply from 10.99.0.3 within 500 ms' });
    expect(silent.latencyMs).toBeGreaterThanOrEqual(490);
    expect(silent.latencyMs).toBeLessThan(3000);
    expect(await nativeIcmpCheck(pinger, { address: '10.98.0.1' }, { timeoutMs: 1000 })).toMatchObject({
      ok: false,
      reason: 'unreachable',
      message: 'sendto 10.98.0.1: Network is unreachable',
    });
    expect(await nativeIcmpCheck(pinger, { address: '10.96.0.5' }, { timeoutMs: 2000 })).toMatchObject({
      ok: false,
      reason: 'unreachable',
      message: '10.96.0.5: host unreachable (reported by 10.99.0.2)',
    });
  });

  it('marks its requests with the configured fwmark (policy routing sees it)', async () => {
    expect(await nativeIcmpCheck(pinger, { address: '10.99.0.2' }, { timeoutMs: 2000, mark: 7 })).toMatchObject({ ok: false, reason: 'unreachable' });
    expect(await nativeIcmpCheck(pinger, { address: '10.99.0.2' }, { timeoutMs: 2000, mark: 8 })).toMatchObject({ ok: true });
  });

  it('keeps many probes in flight on one socket apart', async () => {
    // (Not the router's "unreachable": its kernel rate-limits those to about one a second per sender.)
    const targets = ['10.99.0.2', '10.99.0.3', '10.99.0.1'];
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => nativeIcmpCheck(pinger, { address: targets[i % 3] as string }, { timeoutMs: 2000 })),
    );
    expect(results.map((r) => (r.ok ? 'up' : r.reason))).toEqual(Array.from({ length: 60 }, (_, i) => ['up', 'timeout', 'up'][i % 3]));
  });

  it('refuses a name or an option-like target before sending anything', async () => {
    expect(await icmpCheck({ address: '-f' }, { timeoutMs: 1000 })).toMatchObject({ ok: false, reason: 'error', message: 'target address "-f" is not an IPv4 or IPv6 address' });
  });

  it('stops at once when cancelled', async () => {
    const ac = new AbortController();
    const pending = nativeIcmpCheck(pinger, { address: '10.99.0.3' }, { timeoutMs: 5000 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    const r = await pending;
    expect(r).toMatchObject({ ok: false, reason: 'aborted' });
    expect(r.latencyMs).toBeLessThan(3000);
  });
});

describe('ICMP check (ping child fallback)', () => {
  const inNs = ['ip', 'netns', 'exec', prober];

  it('is up on an echo reply, times out when nobody answers', async () => {
    expect(await pingIcmpCheck({ address: '127.0.0.1' }, { timeoutMs: 5000 })).toMatchObject({ ok: true });
    expect(await pingIcmpCheck({ address: '10.99.0.3' }, { timeoutMs: 1000, prefix: inNs })).toMatchObject({
      ok: false,
      reason: 'timeout',
      message: 'no echo reply from 10.99.0.3 within 1 s',
    });
  });

  it('refuses a fwmark it cannot set', async () => {
    expect(await pingIcmpCheck({ address: '127.0.0.1' }, { timeoutMs: 1000, mark: 7 })).toMatchObject({ ok: false, reason: 'error' });
  });
});
