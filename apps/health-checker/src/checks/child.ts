import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Keeps the last `limit` bytes a child wrote, so a chatty child cannot grow our memory. */
export class TailBuffer {
  private parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.parts.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.parts[0]?.length ?? 0) >= this.limit && this.parts.length > 1) {
      this.size -= (this.parts.shift() as Buffer).length;
    }
  }
  text(): string {
    const all = Buffer.concat(this.parts);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/**
 * Starts a program from an argv array, never through a shell, in its own process group so that
 * a timeout can kill what it started too.
 */
export function spawnGroup(argv: readonly string[], env?: NodeJS.ProcessEnv, ids?: { uid: number; gid: number }): ChildProcess {
  const [file, ...args] = argv;
  if (file === undefined || file === '') throw new Error('command is empty');
  return spawn(file, args, { shell: false, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}), ...(ids ?? {}) });
}

/** uid and primary gid of a local user, from /etc/passwd (Node has no getpwnam). */
export function lookupUser(name: string, passwd = readFileSync('/etc/passwd', 'utf8')): { uid: number; gid: number } {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error(`user ${JSON.stringify(name)} not found in /etc/passwd`);
}

/**
 * Signals the child's whole process group, which outlives the child while anything it started
 * runs; a group already gone is fine.
 */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/** The last non-empty line of a child's output, shortened, for a failure message. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines[lines.length - 1] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}
