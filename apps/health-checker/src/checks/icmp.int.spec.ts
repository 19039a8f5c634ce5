import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { icmpCheck } from './icmp.js';

// A namespace of our own with a veth pair whose both ends stay inside it: 10.99.0.1/24 is local
// there, 10.99.0.2 is on-link but nobody answers ARP, and 10.98.0.1 has no route.
const ns = `fulcrum-icmp-${process.pid}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const inNs = ['ip', 'netns', 'exec', ns];

beforeAll(() => {
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1');
  ip('-n', ns, 'addr', 'add', '10.99.0.1/24', 'dev', 'veth0');
  ip('-n', ns, 'link', 'set', 'veth0', 'up');
  ip('-n', ns, 'link', 'set', 'veth1', 'up');
});
afterAll(() => {
  ip('netns', 'del', ns);
});

describe('ICMP check (ping child process)', () => {
  it('is up on an echo reply over IPv4 and IPv6 loopback', async () => {
    expect(await icmpCheck({ address: '127.0.0.1' }, { timeoutMs: 5000 })).toMatchObject({ ok: true });
    expect(await icmpCheck({ address: '::1' }, { timeoutMs: 5000 })).toMatchObject({ ok: true });
  });

  it('sends from the configured source address', async () => {
    expect(await icmpCheck({ address: '127.0.0.1' }, { timeoutMs: 5000, source: { address: '127.0.0.5' } })).toMatchObject({ ok: true });
    expect(await icmpCheck({ address: '127.0.0.1' }, { timeoutMs: 5000, source: { address: '192.0.2.7' } })).toMatchObject({ ok: false });
  });

  it('probes from a namespace: up locally there, timeout when nobody answers, unreachable without a route', async () => {
    expect(await icmpCheck({ address: '10.99.0.1' }, { timeoutMs: 1000, prefix: inNs })).toMatchObject({ ok: true });
    const silent = await icmpCheck({ address: '10.99.0.2' }, { timeoutMs: 1000, prefix: inNs });
    expect(silent).toMatchObject({ ok: false, reason: 'timeout', message: 'no echo reply from 10.99.0.2 within 1 s' });
    expect(silent.latencyMs).toBeLessThan(4000);
    expect(await icmpCheck({ address: '10.98.0.1' }, { timeoutMs: 1000, prefix: inNs })).toMatchObject({ ok: false, reason: 'unreachable' });
  });

  it('refuses a name or an option-like target before running anything', async () => {
    expect(await icmpCheck({ address: '-f' }, { timeoutMs: 1000 })).toMatchObject({ ok: false, reason: 'error', message: 'target address "-f" is not an IPv4 or IPv6 address' });
  });

  it('is killed at its deadline when cancelled', async () => {
    const ac = new AbortController();
    const pending = icmpCheck({ address: '10.99.0.2' }, { timeoutMs: 5000, prefix: inNs }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    const r = await pending;
    expect(r).toMatchObject({ ok: false, reason: 'aborted' });
    expect(r.latencyMs).toBeLessThan(3000);
  });
});
