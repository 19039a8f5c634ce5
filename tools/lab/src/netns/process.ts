import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** `argv` run inside network namespace `ns` (`null`: the caller's own namespace). */
export function inNamespace(ns: string | null, argv: readonly string[]): string[] {
  return ns === null ? [...argv] : ['ip', 'netns', 'exec', ns, ...argv];
}

export interface RunOptions {
  /** Written to the command's stdin (otherwise stdin is empty). */
  input?: string;
  /** Kill the command (SIGKILL) after this long; default 120 s (the lab VM is slow, a crowded host more so). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** A command that exited non-zero, was killed, or could not start. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stdout: string,
    readonly stderr: string,
    options?: ErrorOptions & { timeoutMs?: number },
  ) {
    const how =
      options?.timeoutMs !== undefined
        ? `did not finish within ${options.timeoutMs} ms and was killed`
        : exitCode !== null
          ? `exited ${exitCode}`
          : signal
            ? `was killed by ${signal}`
            : 'could not start';
    const err = stderr.trim() || stdout.trim();
    super(`\`${argv.join(' ')}\` ${how}${err ? `:\n${err}` : ''}`, options);
  }
}

/** Runs a command to completion in a namespace; rejects with CommandError unless it exits 0. */
export function runIn(ns: string | null, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = inNamespace(ns, argv);
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = full as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timeoutMs = opts.timeoutMs ?? 120_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new CommandError(full, null, null, stdout, stderr || err.message, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandError(full, code, signal, stdout, stderr, timedOut ? { timeoutMs } : undefined));
    });
    child.stdin.on('error', () => {}); // a command that does not read its input closes the pipe early
    child.stdin.end(opts.input ?? '');
  });
}

export interface SpawnOptions {
  /** Names the process in logs and errors; default the program's name. */
  name?: string;
  /** Also append the output to this file (the in-memory copy is kept either way). */
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const maxOutput = 1 << 20;

/**
 * A long-running process in a namespace, with its stdout and stderr collected (the last MiB, in
 * the order they arrived). `ip netns exec` execs the program in place, so `pid` is the program's
 * own pid and /proc/<pid>/net shows the namespace's sockets.
 */
export class LabProcess {
  readonly pid: number;
  readonly exited: Promise<Exit>;
  private text = '';
  private exit: Exit | null = null;
  private readonly log: WriteStream | null;

  constructor(
    readonly name: string,
    readonly ns: string | null,
    readonly argv: readonly string[],
    opts: SpawnOptions = {},
  ) {
    const [cmd, ...args] = inNamespace(ns, argv) as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
    this.log = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : null;
    const collect = (d: Buffer) => {
      this.text += d.toString('utf8');
      if (this.text.length > maxOutput) this.text = this.text.slice(-maxOutput);
      this.log?.write(d);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => {
        collect(Buffer.from(`${cmd}: ${err.message}\n`));
        this.exit ??= { code: null, signal: null };
        this.log?.end();
        resolve(this.exit);
      });
      child.on('close', (code, signal) => {
        this.exit ??= { code, signal };
        this.log?.end();
        resolve(this.exit);
      });
    });
    this.pid = child.pid ?? -1;
  }

  /** Everything the process printed so far (stdout and stderr interleaved). */
  output(): string {
    return this.text;
  }

  get running(): boolean {
    return this.exit === null && this.pid > 0;
  }

  /** Sends `signal`, then SIGKILL if the process is still there after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 2_000): Promise<Exit> {
    if (!this.running) return this.exited;
    process.kill(this.pid, signal);
    // 'close' waits for the output pipes too: the process may be gone (ESRCH) while a child of it holds them.
    const timer = setTimeout(() => {
      try {
        if (this.running) process.kill(this.pid, 'SIGKILL');
      } catch {
        // already exited
      }
    }, graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /**
   * Waits until the process's namespace has a TCP socket listening on `port`. Rejects early, with
   * the process's output, if the process exits first.
   */
  async waitForListen(port: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) {
        throw new LabProcessError(this, `exited (${describeExit(this.exit)}) before listening on port ${port}`);
      }
      if (listeningTcpPorts(this.pid).has(port)) return;
      if (Date.now() > deadline) throw new LabProcessError(this, `is not listening on port ${port} after ${timeoutMs} ms`);
      await sleep(50);
    }
  }
}

/** A LabProcess that did not do what was expected; the message ends with its output. */
export class LabProcessError extends Error {
  override readonly name = 'LabProcessError';
  constructor(
    readonly process: LabProcess,
    what: string,
    options?: ErrorOptions,
  ) {
    const out = process.output().trim().split('\n').slice(-20).join('\n');
    super(`${process.name} (pid ${process.pid}${process.ns ? ` in ${process.ns}` : ''}) ${what}${out ? `; its output:\n${out}` : ''}`, options);
  }
}

export function describeExit(exit: Exit | null): string {
  if (!exit) return 'running';
  return exit.code !== null ? `exit ${exit.code}` : exit.signal ? `killed by ${exit.signal}` : 'did not start';
}

/** Starts a long-running process in a namespace. */
export function spawnIn(ns: string | null, argv: readonly string[], opts: SpawnOptions = {}): LabProcess {
  const base = argv[0]?.split('/').pop() ?? 'process';
  return new LabProcess(opts.name ?? base, ns, argv, opts);
}

/** Ports in state LISTEN in the text of /proc/<pid>/net/tcp or tcp6. */
export function parseListeningPorts(procNetTcp: string): Set<number> {
  const ports = new Set<number>();
  for (const line of procNetTcp.split('\n').slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (state !== '0A' || !local) continue;
    ports.add(Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
  }
  return ports;
}

/** TCP ports listening in the network namespace of process `pid`. */
export function listeningTcpPorts(pid: number): Set<number> {
  const ports = new Set<number>();
  for (const file of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue; // the process is gone, or IPv6 is off
    }
    for (const p of parseListeningPorts(text)) ports.add(p);
  }
  return ports;
}
