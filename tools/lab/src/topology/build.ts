import { existsSync, mkdirSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError, LabProcess, runIn, type RunOptions, type RunResult, type SpawnOptions } from '../netns/process.js';
import { downScript, namespacesOf, shellQuote, upScript } from './plan.js';
import { addressOf, namespaceOf, parseTopology, type TopologyInput, type TopologySpec } from './spec.js';

/** Building or tearing down a topology failed; `cause` holds the failing command. */
export class TopologyBuildError extends Error {
  override readonly name = 'TopologyBuildError';
}

export interface BuildOptions {
  /** Each spawned process also appends its output to `<logDir>/<node>-<name>.log`. */
  logDir?: string;
}

/** A topology that is up: run things in its nodes, then tear it down. */
export interface Topology {
  readonly spec: TopologySpec;
  /** The namespace of a node, for tools that take one (`ip -n`, `ip netns exec`). */
  ns(node: string): string;
  /** The primary address (without prefix length) of a node's interface, by default its first. */
  address(node: string, iface?: string): string;
  /** Runs a command in a node to completion; rejects with CommandError unless it exits 0. */
  exec(node: string, argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Runs a POSIX shell script in a node. */
  sh(node: string, script: string, opts?: RunOptions): Promise<RunResult>;
  /** Starts a long-running process in a node; teardown() stops it. */
  spawn(node: string, argv: readonly string[], opts?: SpawnOptions): LabProcess;
  /** Every process started with spawn(), in order. */
  processes(): readonly LabProcess[];
  /** The output of every spawned process, labelled: print it when a test fails. */
  logs(): string;
  /**
   * Waits until a TCP connection from `from` to host:port succeeds. Each attempt opens a real
   * connection: do not aim it at a VIP whose scheduler a test counts.
   */
  waitForTcp(from: string, host: string, port: number, timeoutMs?: number): Promise<void>;
  /** Stops the spawned processes (and any other process left in the namespaces) and removes the namespaces. */
  teardown(): Promise<void>;
}

/**
 * Builds a topology (see TopologySpec) and returns a handle to use and tear it down. Refuses to
 * build over namespaces that already exist. A build that fails half-way removes what it made.
 */
export async function buildTopology(input: TopologyInput | TopologySpec, opts: BuildOptions = {}): Promise<Topology> {
  const spec = parseTopology(input);
  const taken = namespacesOf(spec).filter((ns) => existsSync(`/run/netns/${ns}`));
  if (taken.length) {
    throw new TopologyBuildError(
      `namespace${taken.length > 1 ? 's' : ''} ${taken.join(', ')} already exist${taken.length > 1 ? '' : 's'}: ` +
        'another topology with the same prefix is up, or one was not torn down (`ip netns del <name>`)',
    );
  }
  try {
    await runIn(null, ['sh', '-s'], { input: upScript(spec), timeoutMs: 120_000 });
  } catch (err) {
    await runIn(null, ['sh', '-s'], { input: downScript(spec) }).catch(() => undefined);
    throw new TopologyBuildError(`building the topology failed: ${(err as Error).message}`, { cause: err });
  }
  if (opts.logDir) mkdirSync(opts.logDir, { recursive: true });
  return new LiveTopology(spec, opts);
}

class LiveTopology implements Topology {
  private readonly spawned: LabProcess[] = [];
  private torn = false;

  constructor(
    readonly spec: TopologySpec,
    private readonly opts: BuildOptions,
  ) {}

  private node(name: string) {
    const node = this.spec.nodes.find((n) => n.name === name);
    if (!node) throw new TopologyBuildError(`no node "${name}" (nodes: ${this.spec.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  ns(node: string): string {
    return namespaceOf(this.spec, this.node(node).name);
  }

  address(node: string, iface?: string): string {
    const n = this.node(node);
    const i = iface === undefined ? n.interfaces[0] : n.interfaces.find((x) => x.name === iface);
    const a = i?.addresses[0];
    if (!a) throw new TopologyBuildError(`${node} has no address on ${iface ?? 'its first interface'}`);
    return addressOf(a);
  }

  exec(node: string, argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return runIn(this.ns(node), argv, opts);
  }

  sh(node: string, script: string, opts?: RunOptions): Promise<RunResult> {
    return runIn(this.ns(node), ['sh', '-c', script], opts);
  }

  spawn(node: string, argv: readonly string[], opts: SpawnOptions = {}): LabProcess {
    if (this.torn) throw new TopologyBuildError('the topology is torn down');
    const name = opts.name ?? argv[0]?.split('/').pop() ?? 'process';
    const logFile = opts.logFile ?? (this.opts.logDir ? join(this.opts.logDir, `${node}-${name}.log`) : undefined);
    const p = new LabProcess(name, this.ns(node), argv, { ...opts, logFile });
    this.spawned.push(p);
    return p;
  }

  processes(): readonly LabProcess[] {
    return this.spawned;
  }

  logs(): string {
    return this.spawned
      .map((p) => `--- ${p.name} in ${p.ns} (pid ${p.pid}${p.running ? '' : ', exited'})\n${p.output().trimEnd()}`)
      .join('\n');
  }

  async waitForTcp(from: string, host: string, port: number, timeoutMs = 30_000): Promise<void> {
    // One bash in the node for the whole wait: a process per attempt is slow in the lab VM.
    const tries = Math.max(1, Math.ceil(timeoutMs / 100));
    const script =
      `i=0; while [ $i -lt ${tries} ]; do ` +
      `(exec 3<>/dev/tcp/${shellQuote(host)}/${port}) 2>/dev/null && exit 0; i=$((i+1)); sleep 0.1; done; exit 1`;
    try {
      await runIn(this.ns(from), ['bash', '-c', script], { timeoutMs });
    } catch (err) {
      throw new TopologyBuildError(`${from} cannot connect to ${host}:${port} within ${timeoutMs} ms`, { cause: err });
    }
  }

  async teardown(): Promise<void> {
    if (this.torn) return;
    this.torn = true;
    await Promise.all(this.spawned.map((p) => p.stop()));
    killStrays(namespacesOf(this.spec));
    try {
      await runIn(null, ['sh', '-s'], { input: downScript(this.spec) });
    } catch (err) {
      if (err instanceof CommandError) throw new TopologyBuildError(`tearing down the topology failed: ${err.message}`, { cause: err });
      throw err;
    }
  }
}

// Processes started in a namespace by other means (a daemon that forked, a test's own helper)
// would keep its interfaces, and so its addresses, alive after `ip netns del`.
function killStrays(namespaces: string[]): void {
  const inodes = new Set<string>();
  for (const ns of namespaces) {
    try {
      inodes.add(`net:[${statSync(`/run/netns/${ns}`).ino}]`);
    } catch {
      // already gone
    }
  }
  if (!inodes.size) return;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (inodes.has(readlinkSync(`/proc/${entry}/ns/net`))) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // exited meanwhile, or not ours to see
    }
  }
}
