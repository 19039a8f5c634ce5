import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from './cleanup.js';
import { canConnect, freePort, HarnessError, startProcess } from './process.js';

/** Alive and not a zombie (an orphan may wait for a reaper for a moment). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const stat = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').slice(0, 60);
  } catch {
    return 'gone';
  }
};

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

describe('startProcess', () => {
  it('reports a server that exits before it is ready, with its output, and removes its dir', async () => {
    const dir = makeTempDir('exits');
    const err = await startProcess({
      name: 'broken',
      command: 'sh',
      args: ['-c', 'echo "bad config line 3" >&2; exit 3'],
      dir,
      host: '127.0.0.1',
      port: await freePort(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect(String(err)).toMatch(/broken exited with code 3 before it was ready/);
    expect(String(err)).toContain('bad config line 3');
    expect(existsSync(dir)).toBe(false);
  });

  it('gives up on a server that never gets ready, and kills it', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await startProcess({
      name: 'silent',
      command: 'sleep',
      args: ['30'],
      dir: makeTempDir('silent'),
      host: '127.0.0.1',
      port,
      readyTimeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/silent not ready on 127\.0\.0\.1:\d+ after 300 ms/);
    // It gave up at its ready timeout instead of waiting for the process (30 s); the margin is for loaded CI hosts.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('escalates to SIGKILL when the server ignores the stop signal', async () => {
    const port = await freePort();
    const server = await startProcess({
      name: 'stubborn',
      command: process.execPath,
      args: ['-e', `process.on('SIGTERM', () => {}); require('net').createServer().listen(${port}, '127.0.0.1')`],
      dir: makeTempDir('stubborn'),
      host: '127.0.0.1',
      port,
      stopTimeoutMs: 300,
    });
    const pid = server.pid as number;
    await server.stop();
    expect(server.isRunning()).toBe(false);
    await until('the process is gone', () => !alive(pid));
    expect(await canConnect('127.0.0.1', port)).toBe(false);
    await server.dispose();
  });

  // A test runner that dies must not leave servers behind: by its exit hooks on SIGTERM, and by the
  // kernel (parent-death signal) on SIGKILL, when no hook can run.
  it.each(['SIGTERM', 'SIGKILL'] as const)('kills its servers and removes their dirs when the test process gets %s', async (signal) => {
    const scratch = makeTempDir('runner');
    const script = join(scratch, 'runner.mts');
    writeFileSync(
      script,
      `import { startRedis } from ${JSON.stringify(join(import.meta.dirname, 'index.ts'))};
       const r = await startRedis();
       process.stdout.write(JSON.stringify({ pid: r.pid, dir: r.dir, port: r.port }) + '\\n');
       setInterval(() => {}, 1000);`,
    );
    const runner = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: join(import.meta.dirname, '..', '..', '..'), // where `tsx` resolves
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      runner.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        if (buf.includes('\n')) resolve(buf.split('\n')[0] as string);
      });
      runner.once('exit', (code) => reject(new Error(`runner exited early with ${code}`)));
    });
    const { pid, dir } = JSON.parse(line) as { pid: number; dir: string };
    expect(alive(pid)).toBe(true);
    const exited = new Promise<void>((r) => runner.once('exit', () => r()));
    runner.kill(signal);
    await exited;
    await until(`the redis-server of the dead runner is gone (${stat(pid)})`, () => !alive(pid), 10_000);
    // The pid is the proof; the freed port itself may already belong to a server of a spec running alongside
    // (a fresh-clone run saw it answer).
    if (signal === 'SIGTERM') expect(existsSync(dir)).toBe(false);
  });
});
