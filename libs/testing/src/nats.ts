import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './cleanup.js';
import { freePort, startProcess, type ManagedServer } from './process.js';

export interface NatsUser {
  user: string;
  password: string;
  /** Subjects the user may publish / subscribe to; all when absent. */
  publish?: string[];
  subscribe?: string[];
}

/** Either a shared token, or users (password or nkey) in one account that has JetStream. */
export type NatsAuth = { token: string } | { users: NatsUser[]; nkeys?: string[] } | { nkeys: string[] };

export interface NatsOptions {
  /** Enables JetStream with its store in `<dir>/jetstream` (default true). */
  jetstream?: boolean;
  auth?: NatsAuth;
  /** The server binary (default `nats-server` from PATH, Debian's package). */
  binary?: string;
}

export interface NatsServer extends ManagedServer {
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  /** JetStream store dir; kept across stop()/start()/restart()/kill(). */
  readonly storeDir: string;
  /** The monitoring port (/healthz, /varz, /jsz). */
  readonly monitorPort: number;
}

const str = (s: string) => JSON.stringify(s);

function authConfig(auth: NatsAuth | undefined, jetstream: boolean): string {
  if (!auth) return '';
  if ('token' in auth) return `authorization { token: ${str(auth.token)} }\n`;
  const users = 'users' in auth ? auth.users : [];
  const entries = users.map((u) => {
    const perms = [
      u.publish ? `publish: [${u.publish.map(str).join(', ')}]` : '',
      u.subscribe ? `subscribe: [${u.subscribe.map(str).join(', ')}]` : '',
    ].filter(Boolean);
    const permissions = perms.length ? `, permissions: { ${perms.join(', ')} }` : '';
    return `      { user: ${str(u.user)}, password: ${str(u.password)}${permissions} }`;
  });
  for (const nkey of auth.nkeys ?? []) entries.push(`      { nkey: ${str(nkey)} }`);
  return [
    'accounts {',
    '  FULCRUM {',
    jetstream ? '    jetstream: enabled' : '',
    '    users: [',
    entries.join('\n'),
    '    ]',
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * Starts Debian's nats-server on 127.0.0.1 with a free port, its config and JetStream store in a
 * temp dir, and waits until /healthz (which includes JetStream) answers ok.
 */
export async function startNats(opts: NatsOptions = {}): Promise<NatsServer> {
  const jetstream = opts.jetstream ?? true;
  const dir = makeTempDir('nats');
  const storeDir = join(dir, 'jetstream');
  mkdirSync(storeDir);
  const host = '127.0.0.1';
  const port = await freePort(host);
  const monitorPort = await freePort(host);
  const config = [
    `listen: ${str(`${host}:${port}`)}`,
    `http: ${str(`${host}:${monitorPort}`)}`,
    `server_name: ${str(`fulcrum-test-${port}`)}`,
    jetstream ? `jetstream { store_dir: ${str(storeDir)}, max_memory_store: 67108864, max_file_store: 1073741824 }` : '',
    authConfig(opts.auth, jetstream),
  ].join('\n');
  const configPath = join(dir, 'nats.conf');
  writeFileSync(configPath, config);
  const server = await startProcess({
    name: 'nats-server',
    command: opts.binary ?? 'nats-server',
    args: ['-c', configPath],
    dir,
    host,
    port,
    ready: async () => {
      try {
        const r = await fetch(`http://${host}:${monitorPort}/healthz`, { signal: AbortSignal.timeout(1000) });
        return r.ok;
      } catch {
        return false;
      }
    },
  });
  return Object.assign(server, { url: `nats://${host}:${port}`, storeDir, monitorPort });
}
