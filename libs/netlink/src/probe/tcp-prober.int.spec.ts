import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProbeError } from './errors.js';
import { type TcpProbeHandle, type TcpProbeOutcome, type TcpProber, type TcpProbeTarget, openTcpProber } from './tcp-prober.js';

// A namespace of our own: a listener on 127.0.0.1:8080 inside it, 10.77.0.2 on-link behind a veth
// whose other end nobody configured (SYNs never leave: ARP goes unanswered), and a rule that
// prohibits everything marked 7 ahead of the local table, so a mark shows in the outcome.
const ns = `fulcrum-tcpprobe-${process.pid}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
let nsListener: ChildProcess;
let hostServer: Server;
let hostPort = 0;
let inNs: TcpProber;
let onHost: TcpProber;

const run = (p: TcpProber, t: TcpProbeTarget, signal?: AbortSignal) => new Promise<TcpProbeOutcome>((r) => p.probe(p.prepare(t), r, signal));

beforeAll(async () => {
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1');
  ip('-n', ns, 'addr', 'add', '10.77.0.1/24', 'dev', 'veth0');
  ip('-n', ns, 'link', 'set', 'veth0', 'up');
  ip('-n', ns, 'rule', 'add', 'pref', '10', 'lookup', 'local');
  ip('-n', ns, 'rule', 'del', 'pref', '0', 'lookup', 'local');
  ip('-n', ns, 'rule', 'add', 'pref', '5', 'fwmark', '7', 'prohibit');
  nsListener = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', "require('net').createServer((s) => s.destroy()).listen(8080, '127.0.0.1', () => console.log('ready'))"], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(nsListener.stdout as NodeJS.ReadableStream, 'data');
  hostServer = createServer((s) => {
    s.on('error', () => undefined);
    s.destroy();
  });
  await new Promise<void>((r) => hostServer.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, r));
  hostPort = (hostServer.address() as { port: number }).port;
  inNs = openTcpProber({ netns: ns });
  onHost = openTcpProber();
});
afterAll(async () => {
  await inNs?.close();
  await onHost?.close();
  nsListener?.kill('SIGKILL');
  hostServer?.close();
  ip('netns', 'del', ns);
});

describe('TCP prober (non-blocking connect, epoll)', () => {
  it('connects in its namespace, is refused where nothing listens', async () => {
    expect(await run(inNs, { address: '127.0.0.1', port: 8080, timeoutMs: 5000 })).toMatchObject({ ok: true });
    expect(await run(inNs, { address: '127.0.0.1', port: 8081, timeoutMs: 5000 })).toMatchObject({ ok: false, failure: 'socket', errno: 'ECONNREFUSED' });
    // The host's listener is not in the namespace: the probes really go out there.
    expect(await run(onHost, { address: '127.0.0.1', port: hostPort, timeoutMs: 5000 })).toMatchObject({ ok: true });
    expect(await run(inNs, { address: '127.0.0.1', port: hostPort, timeoutMs: 5000 })).toMatchObject({ ok: false, errno: 'ECONNREFUSED' });
  });

  it('marks its packets: policy routing prohibits mark 7 only', async () => {
    expect(await run(inNs, { address: '127.0.0.1', port: 8080, timeoutMs: 5000, mark: 7 })).toMatchObject({ ok: false, failure: 'socket', errno: 'EACCES' });
    expect(await run(inNs, { address: '127.0.0.1', port: 8080, timeoutMs: 5000, mark: 8 })).toMatchObject({ ok: true });
  });

  it('fails at its deadline when the SYN gets no answer, and at once when aborted', async () => {
    const r = await run(inNs, { address: '10.77.0.2', port: 80, timeoutMs: 400 });
    expect(r).toMatchObject({ ok: false, failure: 'deadline', errno: 'ETIMEDOUT', message: 'no answer within 400 ms while connecting' });
    expect(r.latencyMs).toBeGreaterThanOrEqual(399);
    expect(r.latencyMs).toBeLessThan(3000);
    const ac = new AbortController();
    const pending = run(inNs, { address: '10.77.0.2', port: 80, timeoutMs: 10_000 }, ac.signal);
    setTimeout(() => ac.abort(), 100);
    const aborted = await pending;
    expect(aborted).toMatchObject({ ok: false, failure: 'aborted', message: 'cancelled while connecting' });
    expect(aborted.latencyMs).toBeLessThan(5000);
    const cancelled = new Promise<TcpProbeOutcome>((r) => {
      const handle = inNs.probe(inNs.prepare({ address: '10.77.0.2', port: 80, timeoutMs: 10_000 }), r);
      expect(handle?.settled).toBe(false);
      setTimeout(() => inNs.cancel(handle as TcpProbeHandle, 'server removed'), 50);
    });
    expect(await cancelled).toMatchObject({ ok: false, failure: 'aborted', message: 'server removed' });
    expect(inNs.pending).toBe(0);
  });

  it('binds the source and reports an address this host does not have', async () => {
    expect(await run(onHost, { address: '127.0.0.1', port: hostPort, timeoutMs: 5000, source: { address: '127.0.0.9' } })).toMatchObject({ ok: true });
    expect(await run(onHost, { address: '127.0.0.1', port: hostPort, timeoutMs: 5000, source: { address: '192.0.2.1' } })).toMatchObject({
      ok: false,
      errno: 'EADDRNOTAVAIL',
      message: 'bind: Cannot assign requested address',
    });
  });

  it('settles every one of thousands of probes in flight at once, each with its own outcome', async () => {
    const closed = (() => {
      const s = createServer();
      return new Promise<number>((r) => s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => r(port));
      }));
    })();
    const refusedPort = await closed;
    const up = onHost.prepare({ address: '127.0.0.1', port: hostPort, timeoutMs: 10_000 });
    const down = onHost.prepare({ address: '127.0.0.1', port: refusedPort, timeoutMs: 10_000 });
    const outcomes = await Promise.all(
      Array.from({ length: 3000 }, (_, i) => new Promise<TcpProbeOutcome>((r) => onHost.probe(i % 3 === 0 ? down : up, r))),
    );
    expect(outcomes.map((o) => (o.ok ? 'up' : o.errno))).toEqual(Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? 'ECONNREFUSED' : 'up')));
    expect(onHost.pending).toBe(0);
  });

  it('refuses bad targets naming the field', () => {
    expect(() => onHost.prepare({ address: 'web1', port: 80, timeoutMs: 1000 })).toThrow(new ProbeError('EINVAL', 'target address "web1" is not an IPv4 or IPv6 address'));
    expect(() => onHost.prepare({ address: '127.0.0.1', port: 0, timeoutMs: 1000 })).toThrow(/target port 0 is not 1-65535/);
    expect(() => onHost.prepare({ address: '127.0.0.1', port: 80, timeoutMs: 0 })).toThrow(/timeoutMs 0/);
    expect(() => onHost.prepare({ address: '::1', port: 80, timeoutMs: 1000, source: { address: '127.0.0.1' } })).toThrow(/same family/);
    expect(() => onHost.prepare({ address: 'fe80::1%nosuchif0', port: 80, timeoutMs: 1000 })).toThrow(/no interface "nosuchif0"/);
  });
});
