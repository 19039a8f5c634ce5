import { describe, expect, it } from 'vitest';
import { runIn, spawnIn } from './process.js';

// In the caller's own namespace (ns null): the behaviour is the same in any namespace.
describe('runIn', () => {
  it('resolves with the output of a command that exits 0', async () => {
    expect(await runIn(null, ['sh', '-c', 'cat; echo err >&2'], { input: 'in\n' })).toEqual({ stdout: 'in\n', stderr: 'err\n' });
  });

  it('rejects with the exit code and stderr, or with the timeout it exceeded', async () => {
    await expect(runIn(null, ['sh', '-c', 'echo no >&2; exit 3'])).rejects.toThrow('`sh -c echo no >&2; exit 3` exited 3:\nno');
    await expect(runIn(null, ['sleep', '30'], { timeoutMs: 200 })).rejects.toThrow('`sleep 30` did not finish within 200 ms and was killed');
    await expect(runIn(null, ['/nonexistent/tool'])).rejects.toThrow('`/nonexistent/tool` could not start');
  });
});

describe('LabProcess', () => {
  it('keeps the output in order and stops the process with SIGTERM', async () => {
    const p = spawnIn(null, ['sh', '-c', 'echo one; echo two >&2; exec sleep 30'], { name: 'talker' });
    while (!p.output().includes('two')) await new Promise((r) => setTimeout(r, 20));
    expect(p.output()).toBe('one\ntwo\n');
    expect(await p.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(p.running).toBe(false);
  });

  it('falls back to SIGKILL for a process that ignores SIGTERM', async () => {
    const p = spawnIn(null, ['sh', '-c', "trap '' TERM; echo ready; while :; do sleep 1; done"]);
    while (!p.output().includes('ready')) await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    expect(await p.stop('SIGTERM', 300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
