import { writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { makeTempDir } from './cleanup.js';
import { freePort, startProcess, type ManagedServer } from './process.js';

export interface SentinelOptions {
  /** The name clients ask for (sentinel monitor <masterName> ...). */
  masterName: string;
  master: { host: string; port: number };
  /** The master counts as down after this long without answers (default 1000 ms). */
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  /** The master's requirepass, for sentinel to talk to it. */
  authPass?: string;
}

export interface SentinelServer extends ManagedServer {
  /** Sends one inline command and resolves with the raw RESP reply (e.g. 'SENTINEL replicas mymaster'). */
  command(line: string): Promise<string>;
}

/** Starts one redis-sentinel (quorum 1) watching the given master; its config file lives in its temp dir. */
export async function startRedisSentinel(opts: SentinelOptions): Promise<SentinelServer> {
  const dir = makeTempDir('sentinel');
  const host = '127.0.0.1';
  const port = await freePort(host);
  const conf = join(dir, 'sentinel.conf');
  const name = opts.masterName;
  writeFileSync(
    conf,
    [
      `port ${port}`,
      `bind ${host}`,
      `dir ${dir}`,
      'daemonize no',
      `sentinel monitor ${name} ${opts.master.host} ${opts.master.port} 1`,
      `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
      `sentinel failover-timeout ${name} ${opts.failoverTimeoutMs ?? 5000}`,
      `sentinel parallel-syncs ${name} 1`,
      ...(opts.authPass === undefined ? [] : [`sentinel auth-pass ${name} ${opts.authPass}`]),
      '',
    ].join('\n'),
  );
  const command = (line: string) => inline(host, port, line);
  const server = await startProcess({
    name: 'redis-sentinel',
    command: 'redis-server',
    args: [conf, '--sentinel'],
    dir,
    host,
    port,
    ready: async () => (await command('PING').catch(() => '')).startsWith('+PONG'),
  });
  return Object.assign(server, { command });
}

function inline(host: string, port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    let reply = '';
    socket.setTimeout(2000, () => {
      socket.destroy();
      reject(new Error(`no reply to ${line} from ${host}:${port}`));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (c: Buffer) => {
      reply += c.toString('utf8');
      // Enough for the probes: a complete first line, and for arrays a short settle.
      if (reply.includes('\r\n')) setTimeout(() => (socket.destroy(), resolve(reply)), reply.startsWith('*') ? 50 : 0);
    });
  });
}
