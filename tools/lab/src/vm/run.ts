import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareLab, type LabStamp } from '../../prepare.mjs';
import { upScript } from '../topology/plan.js';
import { topologies } from '../topology/shapes.js';
import type { LabOptions } from './args.js';
import { CrlfFilter, Tail } from './console.js';
import { guestEnv, stage2Script } from './guest.js';
import { qemuArgs } from './qemu.js';
import { ended, overdue, type Failure } from './verdict.js';

export interface LabIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The terminal's size, passed to the guest's shell. */
  terminal: { rows: number; cols: number } | null;
  /** Whether io.stdout is a terminal: the guest's command then writes to its console, else to a pipe. */
  outputIsTerminal: boolean;
}

/** The lab could not start a run at all (missing package, unprepared kernel, bad directory). */
export class LabError extends Error {
  override readonly name = 'LabError';
}

const qemuBinary = 'qemu-system-x86_64';
const controlPrefix = 'fulcrum-lab-';

function onPath(cmd: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes control directories left by lab runs that were killed (SIGKILL leaves no chance to clean up). */
export function removeStaleControlDirs(dir = tmpdir()): void {
  for (const name of readdirSync(dir)) {
    const m = new RegExp(`^${controlPrefix}(\\d+)-`).exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

function shellBanner(opts: LabOptions, stamp: LabStamp): string {
  const t = opts.topology === 'none' ? null : topologies[opts.topology]();
  const nodes = t ? ` Topology ${opts.topology}: ${t.nodes.map((n) => n.name).join(', ')} (ip netns exec <node> bash).` : '';
  return `Fulcrum lab: Debian kernel ${stamp.kver} (${stamp.version}).${nodes} Writes stay in guest memory. exit or Ctrl-D powers off; Ctrl-A x kills the VM.`;
}

/**
 * Runs one lab session: boots the guest, runs the command (or the shell), and resolves with the
 * exit code for the lab's own process. The guest's console goes to io.stdout as it comes; the
 * lab's own messages (prefixed `lab:`) go to io.stderr.
 */
export async function runLab(opts: LabOptions, io: LabIo): Promise<number> {
  const say = (msg: string) => io.stderr.write(`lab: ${msg}\n`);
  const stamp = await prepareLab({ log: say, env: io.env });
  if (!onPath(qemuBinary, io.env)) throw new LabError(`${qemuBinary} is not installed (Debian package qemu-system-x86; npm run setup installs it)`);
  if (opts.results) {
    mkdirSync(opts.results, { recursive: true });
    if (!statSync(opts.results).isDirectory()) throw new LabError(`--results ${opts.results} is not a directory`);
  }
  removeStaleControlDirs();
  const ctl = mkdtempSync(join(tmpdir(), `${controlPrefix}${process.pid}-`));
  try {
    writeFileSync(
      join(ctl, 'stage2.sh'),
      stage2Script({
        kver: stamp.kver,
        modulesDir: stamp.modules,
        cwd: io.cwd,
        env: guestEnv(io.env, opts.env, stamp.kver),
        command: opts.shell ? null : opts.command,
        pipeOutput: !io.outputIsTerminal,
        results: opts.results,
        topologyScript: opts.topology === 'none' ? null : upScript(topologies[opts.topology]()),
        banner: opts.shell ? shellBanner(opts, stamp) : undefined,
        forwards: opts.forwards,
        relay: { node: process.execPath, script: fileURLToPath(new URL('./forward-relay.mjs', import.meta.url)) },
        terminal: io.terminal,
      }),
      { mode: 0o755 },
    );
    return await supervise(opts, io, stamp, ctl, say);
  } finally {
    rmSync(ctl, { recursive: true, force: true });
  }
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

function supervise(opts: LabOptions, io: LabIo, stamp: LabStamp, ctl: string, say: (m: string) => void): Promise<number> {
  const args = qemuArgs({
    vmlinux: stamp.vmlinux,
    initramfs: stamp.initramfs,
    memMb: opts.memMb,
    cpus: opts.cpus,
    kvm: opts.kvm,
    controlDir: ctl,
    results: opts.results,
    interactive: opts.shell,
    forwards: opts.forwards,
  });
  // setpriv --pdeathsig: qemu dies with the lab even when the lab is killed with SIGKILL.
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', qemuBinary, ...args], {
    stdio: opts.shell ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    env: io.env,
  });
  const started = Date.now();
  const tail = new Tail(15);
  const crlf = new CrlfFilter();
  let qemuStderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    const text = crlf.push(d);
    tail.push(text);
    io.stdout.write(text);
  });
  let stopping = false;
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    // qemu announces the SIGTERM the lab itself sent; the lab says why it sent it.
    const text = stopping ? d.replace(/^.*terminating on signal \d+.*\n?/gm, '') : d;
    qemuStderr += text;
    io.stderr.write(text);
  });

  let upAt: number | null = null;
  let failure: Failure | null = null;
  let interrupted: NodeJS.Signals | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    stopping = true;
    child.kill('SIGTERM');
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), 3_000);
  };
  const watch = setInterval(() => {
    if (upAt === null && existsSync(join(ctl, 'up'))) upAt = Date.now();
    if (failure) return;
    failure = overdue(
      { startedAt: started, upAt, bootTimeoutMs: opts.bootTimeoutSec * 1000, runTimeoutMs: opts.timeoutSec && opts.timeoutSec * 1000, kvm: opts.kvm },
      Date.now(),
      tail.get(),
    );
    if (failure) stop();
  }, 100);
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted ??= signal;
    stop();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);

  return new Promise<number>((resolve) => {
    child.on('error', (err) => {
      qemuStderr += `${err.message}\n`;
    });
    child.on('close', (code, signal) => {
      clearInterval(watch);
      clearTimeout(killTimer);
      for (const s of signals) process.off(s, onSignal);
      const rest = crlf.flush();
      if (rest) io.stdout.write(rest);
      if (upAt === null && existsSync(join(ctl, 'up'))) upAt = Date.now();
      const secs = (ms: number) => (ms / 1000).toFixed(1);
      if (interrupted) {
        say(`interrupted by ${interrupted}; the guest was stopped`);
        resolve(128 + (signalNumbers[interrupted] ?? 0));
        return;
      }
      if (failure) {
        say(failure.reason);
        resolve(failure.exitCode);
        return;
      }
      let status: string | null = null;
      try {
        status = readFileSync(join(ctl, 'status'), 'utf8');
      } catch {
        // no status: ended() explains why
      }
      const end = ended({ status, up: upAt !== null, qemuCode: code, qemuSignal: signal, qemuStderr, tail: tail.get() });
      if (end.reason) say(end.reason);
      if (!opts.shell) {
        const boot = upAt === null ? 'never came up' : `up in ${secs(upAt - started)} s`;
        say(`${boot}, exit ${end.exitCode} after ${secs(Date.now() - started)} s`);
      }
      resolve(end.exitCode);
    });
  });
}

