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

interface NodePlan {
  dir: string;
  storeDir: string;
  port: number;
  monitorPort: number;
  clusterPort?: number;
}

const HOST = '127.0.0.1';

async function planNode(cluster: boolean): Promise<NodePlan> {
  const dir = makeTempDir('nats');
  const storeDir = join(dir, 'jetstream');
  mkdirSync(storeDir);
  const plan: NodePlan = { dir, storeDir, port: await freePort(HOST), monitorPort: await freePort(HOST) };
  if (cluster) plan.clusterPort = await freePort(HOST);
  return plan;
}

/** Writes the node's config and starts it; ready when /healthz (which includes JetStream) answers ok. */
async function startNode(plan: NodePlan, opts: NatsOptions, peers: NodePlan[]): Promise<NatsServer> {
  const jetstream = opts.jetstream ?? true;
  const { dir, storeDir, port, monitorPort, clusterPort } = plan;
  const cluster =
    clusterPort === undefined
      ? ''
      : [
          'cluster {',
          '  name: "fulcrum-test"',
          `  listen: ${str(`${HOST}:${clusterPort}`)}`,
          `  routes: [${peers.map((p) => str(`nats-route://${HOST}:${p.clusterPort}`)).join(', ')}]`,
          '}',
        ].join('\n');
  const config = [
    `listen: ${str(`${HOST}:${port}`)}`,
    `http: ${str(`${HOST}:${monitorPort}`)}`,
    `server_name: ${str(`fulcrum-test-${port}`)}`,
    jetstream ? `jetstream { store_dir: ${str(storeDir)}, max_memory_store: 67108864, max_file_store: 1073741824 }` : '',
    cluster,
    authConfig(opts.auth, jetstream),
  ].join('\n');
  const configPath = join(dir, 'nats.conf');
  writeFileSync(configPath, config);
  const server = await startProcess({
    name: `nats-server:${port}`,
    command: opts.binary ?? 'nats-server',
    args: ['-c', configPath],
    dir,
    host: HOST,
    port,
    readyTimeoutMs: clusterPort === undefined ? 15_000 : 30_000,
    ready: async () => {
      try {
        const r = await fetch(`http://${HOST}:${monitorPort}/healthz`, { signal: AbortSignal.timeout(1000) });
        return r.ok;
      } catch {
        return false;
      }
    },
  });
  return Object.assign(server, { url: `nats://${HOST}:${port}`, storeDir, monitorPort });
}

/**
 * Starts Debian's nats-server on 127.0.0.1 with a free port, its config and JetStream store in a
 * temp dir, and waits until /healthz (which includes JetStream) answers ok.
 */
export async function startNats(opts: NatsOptions = {}): Promise<NatsServer> {
  return startNode(await planNode(false), opts, []);
}

export interface NatsCluster {
  readonly nodes: readonly NatsServer[];
  /** Every node's client URL, for a client that should fail over. */
  readonly urls: readonly string[];
  dispose(): Promise<void>;
}

/**
 * Starts `size` (default 3) clustered nats-servers with JetStream, as the appliance runs them, and
 * waits until each answers /healthz (a JetStream meta leader is elected). Nodes are started together:
 * none is healthy before a quorum is up.
 */
export async function startNatsCluster(opts: NatsOptions & { size?: number } = {}): Promise<NatsCluster> {
  const plans: NodePlan[] = [];
  for (let i = 0; i < (opts.size ?? 3); i++) plans.push(await planNode(true));
  const started = await Promise.allSettled(plans.map((p) => startNode(p, opts, plans.filter((q) => q !== p))));
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((n) => n.dispose()));
    throw failed.reason;
  }
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    dispose: async () => {
      await Promise.all(nodes.map((n) => n.dispose()));
    },
  };
}
