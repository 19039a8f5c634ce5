import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

// A VRRP test bed on this host: a bridge namespace, N router namespaces and a client namespace,
// each router and the client joined to the bridge by a veth (`eth0` inside). Addresses are
// 10.<net>.0.<10+i> for router i and 10.<net>.0.2 for the client. Everything the bed makes it
// removes in destroy(), which is safe to call after a failed set-up.

const here = dirname(fileURLToPath(import.meta.url));
export const AGENT_BIN = join(here, '..', '..', 'bin', 'vrrp-agent.mjs');
export const PROBE = join(here, 'probe.py');
export const PROBE_PORT = 7007;

export const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: 'pipe' });
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LogLine {
  readonly msg?: string;
  readonly [key: string]: unknown;
}

/** A process in a namespace whose stdout is JSON log lines (vrrp-agent) or text (keepalived). */
export class NsProcess {
  readonly lines: LogLine[] = [];
  private text = '';
  readonly exited: Promise<void>;
  /** Resolves when stdout is closed: 'exit' may come before the last lines were read. */
  private readonly drained: Promise<void>;

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    let buffer = '';
    child.stdout?.on('data', (c: Buffer) => {
      this.text += c.toString();
      buffer += c.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const p of parts.filter(Boolean)) {
        try {
          this.lines.push(JSON.parse(p) as LogLine);
        } catch {
          this.lines.push({ raw: p });
        }
      }
    });
    child.stderr?.on('data', (c: Buffer) => (this.text += c.toString()));
    this.exited = new Promise((r) => child.once('exit', () => r()));
    this.drained = new Promise((r) => (child.stdout ? child.stdout.once('close', () => r()) : r()));
  }


  get output(): string {
    return this.text;
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitFor(match: (l: LogLine) => boolean, timeoutMs: number, after = 0): Promise<LogLine> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.slice(after).find(match);
      if (found) return found;
      if (!this.running) throw new Error(`${this.name} exited before the expected log line; output:\n${this.text.slice(-3000)}`);
      if (Date.now() > until) throw new Error(`${this.name}: no expected log line within ${timeoutMs} ms; output:\n${this.text.slice(-3000)}`);
      await sleep(10);
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    // A process the agent started may hold the pipe open: the wait for its last lines is bounded.
    await Promise.race([this.drained, sleep(1000)]);
  }
}

export interface AgentInstance {
  id: string;
  version?: 2 | 3;
  virtualRouterId: number;
  priorities: Record<string, number>;
  advertInterval?: number;
  virtualAddresses: { address: string; prefix?: number }[];
  preempt?: boolean;
  preemptDelay?: number;
  authentication?: { type: 'pass'; password: string };
  unicastPeers?: string[];
  trackScripts?: Record<string, unknown>[];
  trackInterfaces?: { interface: string; weight?: number }[];
  syncGroup?: string;
}

export class VrrpLan {
  readonly routers: string[];
  readonly bridge: string;
  readonly client: string;
  readonly dir: string;
  private readonly procs: NsProcess[] = [];
  /** Niceness for every process the bed starts (benchmarks: below the rest of a busy machine). */
  nice = 0;

  constructor(
    readonly tag: string,
    readonly net: number,
    count: number,
  ) {
    this.routers = Array.from({ length: count }, (_, i) => `${tag}-r${i + 1}`);
    this.bridge = `${tag}-br`;
    this.client = `${tag}-c`;
    this.dir = mkdtempSync(join(tmpdir(), `${tag}-`));
  }

  /** Router i's (1-based) address on the LAN. */
  addr(i: number): string {
    return `10.${this.net}.0.${10 + i}`;
  }
  get clientAddr(): string {
    return `10.${this.net}.0.2`;
  }
  vip(n = 100): string {
    return `10.${this.net}.0.${n}`;
  }
  /** With create({ ipv6: true }): router i's and the client's IPv6 addresses, and VIPs. */
  addr6(i: number): string {
    return `fd00:${this.net}::${10 + i}`;
  }
  get clientAddr6(): string {
    return `fd00:${this.net}::2`;
  }
  vip6(n = 100): string {
    return `fd00:${this.net}::${n}`;
  }
  ns(i: number): string {
    return this.routers[i - 1] as string;
  }

  /**
   * Builds the bed. `ipv6`: also fd00:<net>::/64 addresses, no duplicate address detection (the
   * link-local addresses are usable at once), and back only when IPv6 multicast is routed.
   */
  async create(opts: { ipv6?: boolean } = {}): Promise<this> {
    sh('ip', 'netns', 'add', this.bridge);
    sh('ip', '-n', this.bridge, 'link', 'add', 'br0', 'type', 'bridge');
    sh('ip', '-n', this.bridge, 'link', 'set', 'br0', 'up');
    const join = (ns: string, port: string, address: string) => {
      sh('ip', 'netns', 'add', ns);
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      if (opts.ipv6) sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
      sh('ip', 'link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', this.bridge);
      sh('ip', '-n', this.bridge, 'link', 'set', port, 'master', 'br0', 'up');
      sh('ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      if (opts.ipv6) sh('ip', '-n', ns, 'addr', 'add', `${address6}/64`, 'dev', 'eth0', 'nodad');
      sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
    };
    let address6 = this.clientAddr6;
    join(this.client, 'pc', this.clientAddr);
    this.routers.forEach((ns, i) => {
      address6 = this.addr6(i + 1);
      join(ns, `p${i + 1}`, this.addr(i + 1));
    });
    if (opts.ipv6) {
      // The kernel routes IPv6 multicast once it has seen the carrier (linkwatch, up to a second).
      for (const ns of [this.client, ...this.routers]) {
        const until = Date.now() + 20_000;
        while (!sh('ip', '-n', ns, '-6', 'route', 'show', 'table', 'local').includes('multicast ff00::/8') || !sh('ip', '-n', ns, '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link').includes('fe80')) {
          if (Date.now() > until) throw new Error(`${ns}: no IPv6 link-local address or multicast route within 20 s`);
          await sleep(50);
        }
      }
    }
    return this;
  }

  /** Router i's MAC on eth0. */
  mac(i: number): string {
    const m = /link\/ether ([0-9a-f:]{17})/.exec(sh('ip', '-n', this.ns(i), 'link', 'show', 'dev', 'eth0'));
    if (!m?.[1]) throw new Error(`no MAC on ${this.ns(i)} eth0`);
    return m[1];
  }

  /** Router i's IPv6 link-local address on eth0. */
  linkLocal(i: number): string {
    const m = /inet6 (fe80::[0-9a-f:]+)\//.exec(sh('ip', '-n', this.ns(i), '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'));
    if (!m?.[1]) throw new Error(`no link-local address on ${this.ns(i)} eth0`);
    return m[1];
  }

  /** The client's neighbour entry for an IPv6 address (`ip -6 neigh`), '' when none. */
  clientNeighbour6(address: string): string {
    return sh('ip', '-n', this.client, '-6', 'neigh', 'show', address, 'dev', 'eth0').trim();
  }

  /** Makes the client resolve an IPv6 address (one UDP datagram to it: neighbour solicitation first). */
  touch6(address: string): void {
    sh('ip', 'netns', 'exec', this.client, 'python3', '-c', `import socket;socket.socket(socket.AF_INET6,socket.SOCK_DGRAM).sendto(b'x',('${address}',${PROBE_PORT}))`);
  }

  /** The router's own interface down (what the agent must notice: fault). */
  linkDown(i: number): void {
    sh('ip', '-n', this.ns(i), 'link', 'set', 'eth0', 'down');
  }
  linkUp(i: number): void {
    sh('ip', '-n', this.ns(i), 'link', 'set', 'eth0', 'up');
  }
  /** The bridge's end of router i's veth down: router i's eth0 stays administratively up but loses its carrier. */
  peerDown(i: number): void {
    sh('ip', '-n', this.bridge, 'link', 'set', `p${i}`, 'down');
  }
  peerUp(i: number): void {
    sh('ip', '-n', this.bridge, 'link', 'set', `p${i}`, 'up');
  }
  /** Cuts router i off the bridge (its own link stays administratively up): a partition. */
  cut(i: number): void {
    sh('ip', '-n', this.bridge, 'link', 'set', `p${i}`, 'nomaster');
  }
  heal(i: number): void {
    sh('ip', '-n', this.bridge, 'link', 'set', `p${i}`, 'master', 'br0');
  }

  /**
   * Forgets the client's neighbour entries. Set-up only: a router that took the VIP less than the
   * kernel's locktime (1 s) after another one has its gratuitous ARP ignored by the client.
   */
  flushClientNeighbours(): void {
    sh('ip', '-n', this.client, 'neigh', 'flush', 'all');
  }

  /** Runs a shell command in router i's namespace. */
  exec(i: number, cmd: string): string {
    return sh('ip', 'netns', 'exec', this.ns(i), 'sh', '-c', cmd);
  }

  /** Addresses on router i's eth0. */
  addresses(i: number): string {
    return sh('ip', '-n', this.ns(i), '-o', '-4', 'addr', 'show', 'dev', 'eth0');
  }
  hasVip(i: number, vip = this.vip()): boolean {
    if (vip.includes(':')) return sh('ip', '-n', this.ns(i), '-o', '-6', 'addr', 'show', 'dev', 'eth0').includes(` ${vip}/`);
    return this.addresses(i).includes(` ${vip}/`);
  }

  /** spawn('ip', args) with the bed's niceness. */
  private spawnIp(args: string[], opts: Parameters<typeof spawn>[2]): ChildProcess {
    return this.nice === 0 ? spawn('ip', args, opts) : spawn('nice', ['-n', String(this.nice), 'ip', ...args], opts);
  }

  private track(p: NsProcess): NsProcess {
    this.procs.push(p);
    return p;
  }

  /** Starts vrrp-agent in router i's namespace with these instances (host name r<i>). */
  startAgent(i: number, instances: AgentInstance[], extra: Record<string, unknown> = {}): NsProcess {
    const file = join(this.dir, `agent-r${i}-${Date.now()}.yaml`);
    const config = {
      host: `r${i}`,
      nats: { servers: ['nats://127.0.0.1:1'] },
      desiredState: false,
      log: { level: 'info' },
      instances: instances.map((inst) => ({ interface: 'eth0', ...inst })),
      ...extra,
    };
    writeFileSync(file, stringify(config));
    const child = this.spawnIp(['netns', 'exec', this.ns(i), process.execPath, AGENT_BIN, '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FULCRUM_STATUS__PORT: '9702' },
    });
    return this.track(new NsProcess(child, `vrrp-agent r${i}`));
  }

  /** Starts keepalived (VRRP only) in router i's namespace; its log is NsProcess.output. */
  startKeepalived(i: number, conf: string): KeepalivedProcess {
    const base = join(this.dir, `ka-r${i}-${Date.now()}`);
    writeFileSync(`${base}.conf`, conf);
    const log = `${base}.log`;
    const fd = openSync(log, 'a');
    const child = this.spawnIp(
      ['netns', 'exec', this.ns(i), 'keepalived', '-n', '-P', '-D', '-l', '-f', `${base}.conf`, '-p', `${base}.pid`, '-r', `${base}.vrrp.pid`, '-c', `${base}.chk.pid`],
      { stdio: ['ignore', fd, fd] },
    );
    const p = new KeepalivedProcess(child, `keepalived r${i}`, log, base);
    this.track(p);
    return p;
  }

  /** A UDP responder on every router (answers with r<i>), for the probe. */
  startResponders(): void {
    this.routers.forEach((ns, i) => {
      const child = this.spawnIp(['netns', 'exec', ns, 'python3', PROBE, '--serve', `r${i + 1}`, String(PROBE_PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.track(new NsProcess(child, `responder r${i + 1}`));
    });
  }

  /** Sends to the VIP from the client every `intervalMs` for `durationMs`; resolves with the replies. */
  probe(vip: string, intervalMs: number, durationMs: number): { ready: Promise<void>; done: Promise<ProbeReply[]> } {
    const child = this.spawnIp(['netns', 'exec', this.client, 'python3', PROBE, vip, String(PROBE_PORT), String(intervalMs / 1000), String(durationMs / 1000)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = this.track(new NsProcess(child, 'probe'));
    return {
      ready: p.waitFor((l) => l.ready === true, 20_000).then(() => undefined),
      done: p.exited.then(() => p.lines.filter((l) => typeof l.t === 'number') as unknown as ProbeReply[]),
    };
  }

  /** Metrics of the agent in router i's namespace, as Prometheus text. */
  metrics(i: number): string {
    return sh('ip', 'netns', 'exec', this.ns(i), 'python3', '-c', "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:9702/metrics').read().decode())");
  }

  /** Adverts the agent in router i accepted for an instance (its metrics); 0 while its status server does not answer. */
  advertsReceived(i: number, instance: string): number {
    try {
      const line = this.metrics(i)
        .split('\n')
        .find((l) => l.startsWith('fulcrum_vrrp_adverts_received_total{') && l.includes(`instance="${instance}"`));
      return line ? Number(line.split(' ').pop()) : 0;
    } catch {
      return 0;
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop('SIGKILL', 2000).catch(() => undefined)));
    for (const ns of [...this.routers, this.client, this.bridge]) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        // not created
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One reply to the probe: when it arrived, when its request was sent (seconds), who answered. */
export interface ProbeReply {
  readonly t: number;
  readonly sent: number;
  readonly from: string;
}

/**
 * The longest outage by send times: between two requests that got answers, with none answered in
 * between, from `from` to `to` (seconds; the end counts as an answer). In ms.
 */
export function longestOutage(replies: readonly ProbeReply[], from: number, to: number): number {
  const sent = [...new Set(replies.map((r) => r.sent).filter((s) => s >= from && s <= to))].sort((a, b) => a - b);
  const ts = [...sent, to];
  let gap = 0;
  for (let k = 1; k < ts.length; k += 1) gap = Math.max(gap, ((ts[k] as number) - (ts[k - 1] as number)) * 1000);
  return Math.round(gap);
}

export class KeepalivedProcess extends NsProcess {
  constructor(
    child: ChildProcess,
    name: string,
    readonly logFile: string,
    readonly base: string,
  ) {
    super(child, name);
  }
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
  async waitForLog(pattern: RegExp, timeoutMs: number, from = 0): Promise<number> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const text = this.log();
      const m = pattern.exec(text.slice(from));
      if (m) return from + m.index + m[0].length;
      if (Date.now() > until) throw new Error(`${this.name} never logged ${pattern} within ${timeoutMs} ms; log:\n${text.slice(from).slice(-3000)}`);
      await sleep(10);
    }
  }
  /** A crash: SIGKILL to keepalived's parent and its VRRP child (their pid files). */
  kill9(): void {
    for (const f of [`${this.base}.vrrp.pid`, `${this.base}.pid`]) {
      try {
        process.kill(Number(readFileSync(f, 'utf8').trim()), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Longest time between successive replies inside [from, to] (seconds), in ms; with a finite `to`, the edges count too. */
export function longestGap(replies: readonly { t: number }[], from = 0, to = Infinity): number {
  const inside = replies.map((r) => r.t).filter((t) => t >= from && t <= to);
  const ts = Number.isFinite(to) ? [from, ...inside, to] : inside;
  let gap = 0;
  for (let k = 1; k < ts.length; k += 1) gap = Math.max(gap, ((ts[k] as number) - (ts[k - 1] as number)) * 1000);
  return Math.round(gap);
}

/** keepalived.conf for one VRRP-only instance. */
export function keepalivedConf(o: {
  name: string;
  iface?: string;
  vrid: number;
  priority: number;
  version: 2 | 3;
  advertInterval: number;
  vip: string;
  password?: string;
  nopreempt?: boolean;
}): string {
  return [
    'global_defs {',
    `  router_id ${o.name}`,
    '  vrrp_startup_delay 0.001',
    `  vrrp_version ${o.version}`,
    '  vrrp_garp_master_delay 0',
    '}',
    `vrrp_instance ${o.name} {`,
    '  state BACKUP',
    `  interface ${o.iface ?? 'eth0'}`,
    `  virtual_router_id ${o.vrid}`,
    `  priority ${o.priority}`,
    `  advert_int ${o.advertInterval}`,
    ...(o.nopreempt ? ['  nopreempt'] : []),
    ...(o.password ? ['  authentication {', '    auth_type PASS', `    auth_pass ${o.password}`, '  }'] : []),
    `  virtual_ipaddress {\n    ${o.vip}/${o.vip.includes(':') ? 128 : 32}\n  }`,
    '}',
    '',
  ].join('\n');
}
