import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeTempDir, trackPid, untrackPid } from './cleanup.js';

/** A server the harness could not start, stop or reach; the message carries the server's last output. */
export class HarnessError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HarnessError';
  }
}

export interface ProcessSpec {
  /** Short name used in errors, e.g. 'nats-server'. */
  name: string;
  /** A path, or a name looked up in PATH (plus /usr/sbin and /usr/bin). */
  command: string;
  args: readonly string[];
  /** The server's own temp dir (config, data, logs): its working directory, removed by dispose(). */
  dir: string;
  /** Where it listens; the default readiness probe connects here. */
  host: string;
  port: number;
  env?: Record<string, string>;
  /** True once the server really serves; default: a TCP connection to host:port is accepted. */
  ready?: () => Promise<boolean>;
  /** How long start() waits for `ready` (default 15 s). */
  readyTimeoutMs?: number;
  /** Signal for a graceful stop (default SIGTERM); SIGKILL follows after stopTimeoutMs (default 10 s). */
  stopSignal?: NodeJS.Signals;
  stopTimeoutMs?: number;
}

/**
 * A real server process owned by a test. It keeps its port and dir across stop()/start(), so a test
 * can take the server away and bring the same one back; dispose() stops it and removes its dir.
 */
export interface ManagedServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number | undefined;
  isRunning(): boolean;
  /** Starts the process again (same command, port and dir) and waits until it is ready. */
  start(): Promise<void>;
  /** Graceful stop (stopSignal, then SIGKILL after stopTimeoutMs); the dir is kept. */
  stop(): Promise<void>;
  /** SIGKILL, as in a crash; the dir is kept. */
  kill(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Stops the process and removes its dir. Safe to call twice. */
  dispose(): Promise<void>;
  /** The last 64 KiB of its stdout and stderr, for failure messages. */
  output(): string;
}

const OUTPUT_LIMIT = 64 * 1024;
// The kernel kills the server if the test process dies without running its exit hooks (SIGKILL, OOM).
const SETPRIV = '/usr/bin/setpriv';

/** A TCP port that was free on `host` a moment ago (the usual, slightly racy, bind-to-0 trick). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new HarnessError(`could not get a free port on ${host}`));
      });
    });
  });
}

/** True when a TCP connection to host:port is accepted within timeoutMs. */
export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

class ManagedProcess implements ManagedServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitInfo = '';
  private out = '';
  private disposed = false;

  constructor(private readonly spec: ProcessSpec) {}

  get name(): string {
    return this.spec.name;
  }
  get host(): string {
    return this.spec.host;
  }
  get port(): number {
    return this.spec.port;
  }
  get dir(): string {
    return this.spec.dir;
  }
  get pid(): number | undefined {
    return this.isRunning() ? this.child?.pid : undefined;
  }

  isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.out;
  }

  private append(chunk: Buffer): void {
    this.out += chunk.toString('utf8');
    if (this.out.length > OUTPUT_LIMIT) this.out = this.out.slice(-OUTPUT_LIMIT);
  }

  async start(): Promise<void> {
    if (this.disposed) throw new HarnessError(`${this.name}: already disposed`);
    if (this.isRunning()) throw new HarnessError(`${this.name}: already running (pid ${this.child?.pid})`);
    const { command, args } = existsSync(SETPRIV)
      ? { command: SETPRIV, args: ['--pdeathsig', 'KILL', '--', this.spec.command, ...this.spec.args] }
      : { command: this.spec.command, args: [...this.spec.args] };
    const child = spawn(command, args, {
      cwd: this.spec.dir,
      // Debian puts daemons in /usr/sbin, which a non-login PATH may lack.
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/bin:/sbin:/bin`, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    this.child = child;
    this.exitInfo = '';
    child.stdout?.on('data', (c: Buffer) => this.append(c));
    child.stderr?.on('data', (c: Buffer) => this.append(c));
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        this.exitInfo = `could not run ${this.spec.command}: ${err.message}`;
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
        if (child.pid !== undefined) untrackPid(child.pid);
        resolve();
      });
    });
    if (child.pid !== undefined) trackPid(child.pid);
    await this.waitReady(child);
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const timeoutMs = this.spec.readyTimeoutMs ?? 15_000;
    const ready = this.spec.ready ?? (() => canConnect(this.host, this.port));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null || this.exitInfo !== '') {
        await this.exited;
        throw new HarnessError(`${this.name} ${this.exitInfo} before it was ready on ${this.host}:${this.port}\n${this.out}`);
      }
      if (await ready()) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new HarnessError(`${this.name} not ready on ${this.host}:${this.port} after ${timeoutMs} ms\n${this.out}`);
      }
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.isRunning()) return;
    child.kill(this.spec.stopSignal ?? 'SIGTERM');
    const timeoutMs = this.spec.stopTimeoutMs ?? 10_000;
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(timeoutMs, true)]);
    if (timedOut) await this.kill();
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.isRunning()) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.stop();
    this.disposed = true;
    removeTempDir(this.dir);
  }
}

/** Starts `spec` and waits until it is ready; on failure the process is killed and the dir removed. */
export async function startProcess(spec: ProcessSpec): Promise<ManagedServer> {
  const server = new ManagedProcess(spec);
  try {
    await server.start();
  } catch (err) {
    await server.dispose();
    throw err;
  }
  return server;
}
