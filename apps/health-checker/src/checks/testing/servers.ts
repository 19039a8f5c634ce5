import { spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort, makeTempDir, startProcess, type ManagedServer } from '@fulcrum/testing';

/** A TCP server on `host` that runs `onConnection` for each client; sockets are destroyed on close(). */
export async function startRawServer(onConnection: (socket: Socket) => void, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    onConnection(s);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('raw server has no port');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A UDP socket on 127.0.0.1 answering each datagram with `reply(msg)` (null = stay silent). */
export async function startUdpServer(reply: (msg: Buffer) => Buffer | null, family: 'udp4' | 'udp6' = 'udp4'): Promise<{ port: number; close(): void }> {
  const socket: UdpSocket = createSocket(family);
  socket.on('message', (msg, rinfo) => {
    const out = reply(msg);
    if (out) socket.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, family === 'udp4' ? '127.0.0.1' : '::1', resolve));
  return { port: socket.address().port, close: () => socket.close() };
}

/**
 * Debian's dnsmasq on 127.0.0.1 forwarding nowhere: `hosts` (name -> IPv4 address) answer, other
 * types of those names get NOERROR without records, other names under .test get NXDOMAIN, the rest REFUSED.
 */
export async function startDnsmasq(hosts: Record<string, string>): Promise<ManagedServer> {
  const dir = makeTempDir('dnsmasq');
  const port = await freePort();
  return startProcess({
    name: 'dnsmasq',
    command: 'dnsmasq',
    args: [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      `--port=${port}`,
      '--pid-file=',
      '--user=root',
      '--log-facility=-',
      '--local=/test/',
      ...Object.entries(hosts).map(([name, ip]) => `--host-record=${name},${ip}`),
    ],
    dir,
    host: '127.0.0.1',
    port,
  });
}

/**
 * Debian's OpenSMTPD on 127.0.0.1 with a private config: it greets, answers HELO/EHLO and accepts
 * nothing for delivery. OpenSMTPD keeps one control socket per host, so one instance at a time.
 */
export async function startSmtpd(hostname: string): Promise<ManagedServer> {
  const dir = makeTempDir('smtpd');
  const port = await freePort();
  const config = join(dir, 'smtpd.conf');
  writeFileSync(config, `listen on 127.0.0.1 port ${port} hostname ${hostname}\naction "none" relay\nmatch from any for domain "fulcrum.invalid" action "none"\n`);
  const check = spawnSync('smtpd', ['-n', '-f', config], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } });
  if (check.status !== 0) throw new Error(`smtpd config refused: ${check.stderr}`);
  return startProcess({ name: 'smtpd', command: 'smtpd', args: ['-d', '-f', config], dir, host: '127.0.0.1', port });
}

const BLACKHOLE = `
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
fill = []
for _ in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(s.getsockname())
    except BlockingIOError: pass
    fill.append(c)
time.sleep(0.2)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`;

/**
 * A listening port whose accept queue is full and never drained, so the kernel drops new SYNs
 * and a connect hangs: a TCP connect timeout on loopback. Node's listeners always accept, so
 * the listener is Debian's python3; it exits when its stdin closes.
 */
export async function startBlackholeListener(): Promise<{ port: number; close(): void }> {
  const child = spawn('/usr/bin/python3', ['-c', BLACKHOLE], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  return {
    port,
    close: () => {
      child.stdin.end();
      child.kill('SIGKILL');
    },
  };
}
