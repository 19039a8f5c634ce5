import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Everything a harness started or created, so that a test process that exits (normally, by an
// uncaught error, or by SIGINT/SIGTERM/SIGHUP) leaves no server running and no temp dir behind.
// SIGKILL of the test process is covered separately: children are spawned under
// `setpriv --pdeathsig KILL` (see process.ts), so the kernel kills them with their parent.

const pids = new Set<number>();
const dirs = new Set<string>();
let hooked = false;

function cleanupNow(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  pids.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupNow();
  // Keep the default meaning of the signal (terminate) unless someone else handles it too.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}

export function trackPid(pid: number): void {
  hook();
  pids.add(pid);
}

export function untrackPid(pid: number): void {
  pids.delete(pid);
}

/** A fresh directory under the system temp dir, removed when the test process exits at the latest. */
export function makeTempDir(prefix: string): string {
  hook();
  const dir = mkdtempSync(join(tmpdir(), `fulcrum-${prefix}-`));
  dirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}
