import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { buildTopology, modprobe, runIn, type LabProcess, type Topology } from '@fulcrum/lab';

// The seeds' cluster as an operator would run it, inside the lab VM: every service its own process in
// its own namespace, started with its systemd unit's ExecStart line and the config under deploy/demo.

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const demoDir = `${repoRoot}deploy/demo`;

export const addresses = {
  control: '10.99.0.5',
  client: '10.99.0.10',
  director1: '10.99.0.11',
  director2: '10.99.0.12',
  rs1: '10.99.0.21',
  rs2: '10.99.0.22',
  vip: '10.99.0.100',
} as const;

export type Director = 'director1' | 'director2';

/**
 * How long a service may take to start. In the lab guest on a crowded host, seven node processes
 * starting at once took more than 4 minutes (config-api alone: 107 s).
 */
const STARTUP_MS = 900_000;
export const directors: readonly Director[] = ['director1', 'director2'];
export const directorServices = ['ipvs-agent', 'vrrp-agent', 'health-checker'] as const;

/** A step of the set-up or the scenario did not happen in time; the message says what was awaited. */
export class DemoError extends Error {
  override readonly name = 'DemoError';
}

/** The command line of a unit's ExecStart (under its Nice=), rewritten for a checkout at repoRoot and the demo config of `node`. */
export function unitCommand(unitText: string, service: string, node: string, root = repoRoot): { argv: string[]; env: Record<string, string> } {
  const line = unitText.split('\n').find((l) => l.startsWith('ExecStart='));
  if (!line) throw new DemoError(`fulcrum-${service}.service has no ExecStart line`);
  const argv = line
    .slice('ExecStart='.length)
    .trim()
    .split(/\s+/)
    .map((w) => (w === '/usr/bin/node' ? process.execPath : w))
    .map((w) => w.replace(/^\/opt\/fulcrum\//, root))
    .map((w) => (w === `/etc/fulcrum/${service}.yaml` ? `${root}deploy/demo/${node}/${service}.yaml` : w));
  const env: Record<string, string> = {};
  let nice: string | undefined;
  for (const l of unitText.split('\n')) {
    const m = /^Environment=([A-Z_]+)=(.*)$/.exec(l.trim());
    if (m) env[m[1] as string] = m[2] as string;
    const n = /^Nice=(-?\d+)$/.exec(l.trim());
    if (n) nice = n[1];
  }
  // The scheduling priority the unit gives the service (systemd's Nice=), as nice(1) sets it.
  return { argv: nice === undefined ? argv : ['nice', '-n', nice, ...argv], env };
}

const node = (name: keyof typeof addresses) => ({
  name,
  interfaces: [{ name: 'eth0', segment: 'lan', addresses: [`${addresses[name]}/24`] }],
});

export interface ClusterOptions {
  /** Each process's output also goes to <logDir>/<node>-<name>.log. */
  logDir?: string;
  /** Called with each thing the set-up does, for the narration. */
  say?: (line: string) => void;
}

export interface Cluster {
  readonly t: Topology;
  /** Runs fulcrumctl in the control node with the demo's config; resolves with its stdout. */
  fulcrumctl(args: readonly string[]): Promise<string>;
  /** The director whose eth0 holds the VIP, or null; 'both' when two do (split brain). */
  vipHolder(): Promise<Director | null | 'both'>;
  /** `ipvsadm -Ln` in a director. */
  ipvsadm(d: Director): Promise<string>;
  /** The weight of a real server in a director's table, null when it is not there. */
  weightOf(d: Director, rs: string): Promise<number | null>;
  stopNginx(rs: 'rs1' | 'rs2'): Promise<void>;
  startNginx(rs: 'rs1' | 'rs2'): Promise<void>;
  /** A crash: take the director's link down, then SIGKILL every process of it (NATS included); resolves with when the link went down. */
  crash(d: Director): Promise<number>;
  /** Link up and every service of the director started again, as after a reboot: no VIP, an empty IPVS table, no sync daemon. */
  restore(d: Director): Promise<void>;
  /**
   * Makes config-api reachable from the guest's root namespace (where the lab's --forward relay runs):
   * a veth pair to the control node and a host route to its address.
   */
  exposeApi(): Promise<void>;
  /** Output of every process, labelled (for failures). */
  logs(): string;
  /** Output of one of a node's processes ('' when it has none of that name). */
  output(node: string, name: string): string;
  teardown(): Promise<void>;
}

/** Polls `probe` until it returns a value other than undefined; DemoError naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A DemoError from the probe is an answer (e.g. the process exited): give up at once.
    const v = await probe().catch((err: unknown) => {
      if (err instanceof DemoError) throw err;
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new DemoError(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(everyMs);
  }
}

async function waitStarted(p: LabProcess, timeoutMs: number): Promise<void> {
  await until(
    `${p.name} started`,
    async () => {
      if (!p.running) throw new DemoError(`${p.name} exited before it started:\n${p.output().split('\n').slice(-15).join('\n')}`);
      return /"msg":"started"/.test(p.output()) ? true : undefined;
    },
    timeoutMs,
    250,
  ).catch((err: unknown) => {
    if (!p.running) throw new DemoError(`${p.name} exited before it started:\n${p.output().split('\n').slice(-15).join('\n')}`, { cause: err });
    throw err;
  });
}

/** A long download through the VIP (for the failover of established connections): 4 MiB at 256 KiB/s. */
export const bigFile = { path: '/big', bytes: 4 * 1024 * 1024, rateKiB: 256 };

/** A real server's nginx: its name on every path, and a slow large download on bigFile.path. */
export function nginxConf(dir: string, name: string): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((x) => `  ${x}_temp_path ${dir}/${x};`);
  return [
    // One process in the foreground: stopping it stops the real server.
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    'error_log stderr warn;',
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    ...temp,
    '  server {',
    '    listen 80;',
    `    location = ${bigFile.path} { alias /run/fulcrum-demo/big.bin; default_type application/octet-stream; limit_rate ${bigFile.rateKiB}k; }`,
    `    location / { default_type text/plain; return 200 "${name}\\n"; }`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const say = opts.say ?? (() => undefined);
  await modprobe('ip_vs', 'ip_vs_wrr');
  mkdirSync('/run/fulcrum-demo', { recursive: true });
  writeFileSync('/run/fulcrum-demo/big.bin', Buffer.alloc(bigFile.bytes, 'x'));
  const t = await buildTopology(
    { prefix: '', segments: ['lan'], nodes: [node('control'), node('client'), node('director1'), node('director2'), node('rs1'), node('rs2')] },
    opts.logDir ? { logDir: opts.logDir } : {},
  );
  const procs = new Map<string, LabProcess>();
  const nginx = new Map<string, LabProcess>();
  const units = new Map<string, string>();
  const unit = (service: string) => {
    let text = units.get(service);
    if (text === undefined) {
      text = readFileSync(`${repoRoot}deploy/systemd/fulcrum-${service}.service`, 'utf8');
      units.set(service, text);
    }
    return text;
  };
  const startNats = async (n: string) => {
    mkdirSync(`/run/fulcrum-demo/${n}`, { recursive: true });
    const p = t.spawn(n, ['nats-server', '-c', `${demoDir}/nats-${n}.conf`], { name: 'nats-server' });
    procs.set(`${n}/nats-server`, p);
    await p.waitForListen(4222, 60_000);
  };
  const startService = (n: string, service: string) => {
    mkdirSync(`/run/fulcrum-demo/${n}`, { recursive: true });
    const { argv, env } = unitCommand(unit(service), service, n);
    // The lab's and the demo's own FULCRUM_* variables are not the service's configuration (it would warn about each).
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^FULCRUM_(LAB|DEMO)/.test(k)));
    const p = t.spawn(n, argv, { name: service, env: { ...inherited, ...env } });
    procs.set(`${n}/${service}`, p);
    return p;
  };
  const startDirector = async (d: Director) => {
    await startNats(d);
    await Promise.all(directorServices.map((s) => waitStarted(startService(d, s), STARTUP_MS)));
  };
  const runNginx = async (rs: string) => {
    const dir = `/run/fulcrum-demo/${rs}/nginx`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/nginx.conf`, nginxConf(dir, rs));
    const p = t.spawn(rs, ['nginx', '-p', dir, '-c', `${dir}/nginx.conf`, '-e', 'stderr'], { name: 'nginx' });
    await p.waitForListen(80, 60_000);
    nginx.set(rs, p);
  };

  const cluster: Cluster = {
    t,
    async fulcrumctl(args) {
      // The bundle, as for the services: the tsx bin would compile the CLI in the slow guest on every call.
      const cli = `${repoRoot}apps/cli/dist/main.mjs`;
      const { stdout } = await t.exec('control', [process.execPath, cli, ...args, '--config', `${demoDir}/fulcrumctl.yaml`], { timeoutMs: 180_000 });
      return stdout;
    },
    async vipHolder() {
      const held: Director[] = [];
      for (const d of directors) {
        // "eth0@if7  UP  10.99.0.11/24 10.99.0.100/32". A crashed director's link is down: the address
        // it still carries answers nobody.
        const { stdout } = await t.exec(d, ['ip', '-br', '-4', 'addr', 'show', 'dev', 'eth0']);
        const [, state, ...addrs] = stdout.trim().split(/\s+/);
        if (state !== 'DOWN' && addrs.some((a) => a.startsWith(`${addresses.vip}/`))) held.push(d);
      }
      return held.length === 2 ? 'both' : (held[0] ?? null);
    },
    async ipvsadm(d) {
      return (await t.exec(d, ['ipvsadm', '-Ln'])).stdout;
    },
    async weightOf(d, rs) {
      const text = await cluster.ipvsadm(d);
      const line = text.split('\n').find((l) => l.includes(`${addresses[rs as keyof typeof addresses]}:80`));
      if (!line) return null;
      // "  -> 10.99.0.21:80  Route  3  0  0": the weight is the third column.
      return Number(line.trim().split(/\s+/)[3]);
    },
    async stopNginx(rs) {
      await nginx.get(rs)?.stop('SIGKILL');
      nginx.delete(rs);
    },
    async startNginx(rs) {
      await runNginx(rs);
    },
    async crash(d) {
      await t.exec(d, ['ip', 'link', 'set', 'eth0', 'down']);
      const down = Date.now();
      const mine = [...procs.entries()].filter(([k]) => k.startsWith(`${d}/`));
      for (const [, p] of mine) if (p.running) process.kill(p.pid, 'SIGKILL');
      await Promise.all(mine.map(([, p]) => p.exited));
      return down;
    },
    async restore(d) {
      // A rebooted director comes up without the VIP it held when it died, and with an empty IPVS
      // table and no sync daemon: its agents must program the kernel again before it takes traffic.
      await t.exec(d, ['sh', '-c', 'ipvsadm -C && { ipvsadm --stop-daemon master 2>/dev/null; ipvsadm --stop-daemon backup 2>/dev/null; true; }']);
      const { stdout } = await t.exec(d, ['ip', '-br', '-4', 'addr', 'show', 'dev', 'eth0']);
      for (const a of stdout.trim().split(/\s+/).slice(2).filter((x) => x.startsWith(`${addresses.vip}/`))) {
        await t.exec(d, ['ip', 'addr', 'del', a, 'dev', 'eth0']);
      }
      await t.exec(d, ['ip', 'link', 'set', 'eth0', 'up']);
      await startDirector(d);
    },
    async exposeApi() {
      const ns = t.ns('control');
      await runIn(null, ['sh', '-ec', [
        `ip link add fulcrum-api type veth peer name api0 netns ${ns}`,
        'ip addr add 10.99.255.1/30 dev fulcrum-api',
        'ip link set fulcrum-api up',
        `ip -n ${ns} addr add 10.99.255.2/30 dev api0`,
        `ip -n ${ns} link set api0 up`,
        `ip route replace ${addresses.control}/32 via 10.99.255.2`,
      ].join('\n')]);
    },
    logs: () => t.logs(),
    output: (node, name) => procs.get(`${node}/${name}`)?.output() ?? '',
    teardown: () => t.teardown(),
  };

  try {
    say('NATS: a 3-node cluster with JetStream on control, director1 and director2 (deploy/demo/nats-*.conf)');
    await Promise.all(['control', 'director1', 'director2'].map(startNats));
    say('config-api on control; nginx on rs1 and rs2');
    const api = startService('control', 'config-api');
    await Promise.all([waitStarted(api, STARTUP_MS), runNginx('rs1'), runNginx('rs2')]);
    say('ipvs-agent (real-server role) on rs1 and rs2; ipvs-agent, vrrp-agent and health-checker on each director');
    await Promise.all([
      ...['rs1', 'rs2'].map((rs) => waitStarted(startService(rs, 'ipvs-agent'), STARTUP_MS)),
      ...directors.map((d) => Promise.all(directorServices.map((s) => waitStarted(startService(d, s), STARTUP_MS)))),
    ]);
  } catch (err) {
    (err as Error).message += `\n--- process output ---\n${t.logs().split('\n').slice(-80).join('\n')}`;
    await t.teardown().catch(() => undefined);
    throw err;
  }
  return cluster;
}
