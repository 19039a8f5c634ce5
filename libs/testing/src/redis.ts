import { createConnection } from 'node:net';
import { makeTempDir } from './cleanup.js';
import { freePort, startProcess, type ManagedServer } from './process.js';

export interface RedisOptions {
  /** Sets requirepass; clients must AUTH. */
  password?: string;
  /** More redis-server arguments, e.g. ['--replicaof', '127.0.0.1', '6380']. */
  args?: string[];
  binary?: string;
}

export interface RedisServer extends ManagedServer {
  /** redis://127.0.0.1:<port> (without the password). */
  readonly url: string;
}

/** True once redis answers PING (with PONG, or NOAUTH when a password is set); false while loading. */
function answersPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}

/** Starts Debian's redis-server on 127.0.0.1 with a free port, no persistence, its dir a temp dir. */
export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const dir = makeTempDir('redis');
  const host = '127.0.0.1';
  const port = await freePort(host);
  const args = [
    '--bind', host,
    '--port', String(port),
    '--dir', dir,
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--logfile', '',
    ...(opts.password === undefined ? [] : ['--requirepass', opts.password]),
    ...(opts.args ?? []),
  ];
  const server = await startProcess({
    name: 'redis-server',
    command: opts.binary ?? 'redis-server',
    args,
    dir,
    host,
    port,
    ready: () => answersPing(host, port),
  });
  return Object.assign(server, { url: `redis://${host}:${port}` });
}
