import { execFile } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir } from './cleanup.js';
import { freePort, HarnessError, startProcess, type ManagedServer } from './process.js';

export interface MariadbOptions {
  /** A user with every privilege from any host, made at each start (default `fulcrum` / `fulcrum-test`). */
  user?: string;
  password?: string;
  /** More mariadbd arguments, e.g. ['--server-id=1', '--log-bin=mysql-bin'] for a replication primary. */
  args?: string[];
  binary?: string;
}

export interface MariadbServer extends ManagedServer {
  /** mysql://user:password@127.0.0.1:port */
  readonly url: string;
  readonly user: string;
  readonly password: string;
  /** The unix socket (root may log in there without a password). */
  readonly socket: string;
}

const run = promisify(execFile);
const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/usr/bin`;
// Small redo log: quicker to create and copy; it must be the same at install and at start.
const INNODB = ['--innodb-log-file-size=8M', '--innodb-buffer-pool-size=32M'];

// mariadb-install-db takes seconds; do it once per test process and copy the result for each server.
let template: Promise<string> | undefined;

function installTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = makeTempDir('mariadb-template');
    const datadir = join(dir, 'data');
    try {
      await run(
        'mariadb-install-db',
        ['--no-defaults', `--datadir=${datadir}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db', ...INNODB],
        { env: { ...process.env, PATH }, timeout: 120_000 },
      );
    } catch (err) {
      template = undefined;
      const out = err as { stdout?: string; stderr?: string };
      throw new HarnessError(`mariadb-install-db failed: ${String(err)}\n${out.stdout ?? ''}${out.stderr ?? ''}`, { cause: err });
    }
    return datadir;
  })();
  return template;
}

const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Starts Debian's mariadbd on 127.0.0.1 with a free port, its data dir, socket and pid file in a temp
 * dir, and a password user made by an init file; stop()/start() keep the data.
 */
export async function startMariadb(opts: MariadbOptions = {}): Promise<MariadbServer> {
  const user = opts.user ?? 'fulcrum';
  const password = opts.password ?? 'fulcrum-test';
  const source = await installTemplate();
  const dir = makeTempDir('mariadb');
  const datadir = join(dir, 'data');
  cpSync(source, datadir, { recursive: true });
  const initFile = join(dir, 'init.sql');
  writeFileSync(
    initFile,
    [
      `CREATE USER IF NOT EXISTS ${sqlString(user)}@'%' IDENTIFIED BY ${sqlString(password)};`,
      `GRANT ALL PRIVILEGES ON *.* TO ${sqlString(user)}@'%' WITH GRANT OPTION;`,
      '',
    ].join('\n'),
  );
  const host = '127.0.0.1';
  const port = await freePort(host);
  const socket = join(dir, 'mysqld.sock');
  const server = await startProcess({
    name: 'mariadbd',
    command: opts.binary ?? 'mariadbd',
    args: [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--port=${port}`,
      `--bind-address=${host}`,
      '--user=root',
      '--skip-name-resolve',
      `--init-file=${initFile}`,
      ...INNODB,
      ...(opts.args ?? []),
    ],
    dir,
    host,
    port,
    readyTimeoutMs: 60_000,
    stopTimeoutMs: 30_000,
  });
  const url = `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}`;
  return Object.assign(server, { url, user, password, socket });
}
