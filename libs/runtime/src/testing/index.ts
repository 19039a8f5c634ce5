import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export { describeAppBin, type AppBinSuite } from './app-bin-suite.js';

/** The repository root, for specs that run an app's bin. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/**
 * The program a spec runs for an app: `apps/<app>/bin/<bin>.mjs` (the TypeScript through tsx) on the host, and
 * in the lab VM the bundle the systemd units run, `apps/<app>/dist/main.mjs` (made by `npm run build`): under
 * the guest's emulated CPU tsx needs about 50 s to start a service, the bundle 7-11 s.
 */
export const appBin = (app: string, bin = app) =>
  process.env.FULCRUM_LAB === '1' ? join(repoRoot, 'apps', app, 'dist', 'main.mjs') : join(repoRoot, 'apps', app, 'bin', `${bin}.mjs`);

export interface BinResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** An env without the caller's FULCRUM_* settings, so a spec sees only the variables it sets. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FULCRUM')));
  return { ...env, ...extra };
}

/** Runs a bin to completion (killed after `timeoutMs`) and returns its exit code and output. */
export async function runBin(
  bin: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<BinResult> {
  const child = spawn(process.execPath, [bin, ...args], { env: cleanEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  const out = collect(child);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, ...(await out.done()) };
}

export interface RunningBin {
  readonly child: ChildProcess;
  /** JSON log lines written so far. */
  readonly lines: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Resolves with the first log line that matches (rejects after `timeoutMs` or if the process exits first). */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a long-running bin whose stdout is JSON log lines; killed when the spec forgets to stop it. */
export function startBin(bin: string, args: readonly string[], opts: { env?: Record<string, string> } = {}): RunningBin {
  const child = spawn(process.execPath, [bin, ...args], { env: cleanEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let stderr = '';
  let buffer = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout?.on('data', (c: Buffer) => {
    buffer += c.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const part of parts.filter(Boolean)) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        lines.push({ raw: part });
      }
    }
    waiters.splice(0).forEach((w) => w());
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  exited.then(() => {
    process.off('exit', kill);
    waiters.splice(0).forEach((w) => w());
  });

  return {
    child,
    lines,
    stderr: () => stderr,
    waitForLine(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        const check = () => {
          const found = lines.find(match);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            reject(new Error(`exited (${child.exitCode ?? child.signalCode}) before the log line; stderr: ${stderr}`));
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(kill, timeoutMs);
      const [code, sig] = await exited;
      clearTimeout(timer);
      return { code, signal: sig };
    },
  };
}

function collect(child: ChildProcess) {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const closed = once(child, 'close');
  return { done: async () => (await closed, { stdout, stderr }) };
}

/** `deploy/systemd/fulcrum-<app>.service` with /opt/fulcrum pointed at this checkout, in `dir`. */
export function unitForCheckout(app: string, dir: string): string {
  const text = readFileSync(join(repoRoot, 'deploy', 'systemd', `fulcrum-${app}.service`), 'utf8');
  const path = join(dir, `fulcrum-${app}.service`);
  writeFileSync(path, text.replaceAll('/opt/fulcrum/', `${repoRoot}/`));
  return path;
}
