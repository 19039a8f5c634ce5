import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTempDir } from '@fulcrum/testing';
import { describe, expect, it } from 'vitest';
import { scriptCheck } from './script.js';

const dir = makeTempDir('script-check');
chmodSync(dir, 0o755); // the scripts must be reachable by the unprivileged user below
let n = 0;
/** An executable /bin/sh script in the test's temp dir. */
function script(body: string): string {
  const path = join(dir, `check-${(n += 1)}.sh`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
/** Running, or stopped; a zombie waiting for init to reap it counts as gone. */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};
/** Whether `pid` is gone within 3 s: a killed process still needs a CPU slice to die on a busy host. */
async function goneSoon(pid: number): Promise<boolean> {
  for (let i = 0; i < 60 && alive(pid); i += 1) await sleep(50);
  return !alive(pid);
}

describe('script check (MISC_CHECK)', () => {
  it.each([
    ['exit 0 is up', 'exit 0', false, { ok: true }],
    ['exit 1 is down, with the last line of stderr', 'echo "backend says: db down" >&2; exit 1', false, { ok: false, reason: 'exit-code', message: expect.stringMatching(/exited with status 1: backend says: db down$/) }],
    ['without misc_dynamic any non-zero exit is down', 'exit 12', false, { ok: false, reason: 'exit-code' }],
    ['misc_dynamic: exit 12 is up with weight 10', 'exit 12', true, { ok: true, weight: 10 }],
    ['misc_dynamic: exit 2 is up with weight 0', 'exit 2', true, { ok: true, weight: 0 }],
    ['misc_dynamic: exit 1 is still down', 'exit 1', true, { ok: false, reason: 'exit-code' }],
    ['death by a signal is killed', 'kill -SEGV $$', false, { ok: false, reason: 'killed', message: expect.stringMatching(/died from SIGSEGV/) }],
  ])('%s', async (_name, body, dynamic, expected) => {
    expect(await scriptCheck({ argv: [script(body)], timeoutMs: 3000, dynamic })).toMatchObject(expected);
  });

  it('kills a slow script at its timeout (SIGTERM) and fails killed', async () => {
    const r = await scriptCheck({ argv: [script('sleep 30')], timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, reason: 'killed', message: expect.stringMatching(/ran longer than 300 ms; stopped with SIGTERM$/) });
    expect(r.latencyMs).toBeLessThan(3000);
  });

  it('follows with SIGKILL when the script ignores SIGTERM, and kills what it started', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const r = await scriptCheck({ argv: [script(`trap '' TERM\nsleep 30 &\necho $! > ${pidFile}\nwhile :; do sleep 1; done`)], timeoutMs: 300, killGraceMs: 200 });
    expect(r).toMatchObject({ ok: false, reason: 'killed', message: expect.stringMatching(/stopped with SIGKILL after 200 ms grace$/) });
    expect(r.latencyMs).toBeLessThan(4000);
    expect(await goneSoon(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
  });

  it('is up as soon as the script exits even if it left a background child holding stdout', async () => {
    const pidFile = join(dir, 'bg.pid');
    const r = await scriptCheck({ argv: [script(`sleep 30 &\necho $! > ${pidFile}\nexit 0`)], timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: true });
    expect(r.latencyMs).toBeLessThan(4000);
    expect(await goneSoon(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
  });

  it('passes config values as literal arguments: no shell ever sees them', async () => {
    const out = join(dir, 'args.txt');
    const marker = join(dir, 'injected');
    const argv = [script(`printf '%s\\n' "$@" > ${out}`), `$(touch ${marker})`, `; touch ${marker}`, '`id`'];
    expect(await scriptCheck({ argv, timeoutMs: 3000 })).toMatchObject({ ok: true });
    expect(readFileSync(out, 'utf8')).toBe(`$(touch ${marker})\n; touch ${marker}\n\`id\`\n`);
    expect(await scriptCheck({ argv: [`/bin/true; touch ${marker}`], timeoutMs: 3000 })).toMatchObject({ ok: false, reason: 'error', message: expect.stringMatching(/ENOENT/) });
    expect(existsSync(marker)).toBe(false);
  });

  it('runs with the given environment and as the given user', async () => {
    const check = script('[ "$FULCRUM_RS_ADDRESS" = 10.0.0.11 ] && [ "$(id -u)" = "$(id -u nobody)" ]');
    expect(await scriptCheck({ argv: [check], timeoutMs: 3000, env: { PATH: '/usr/bin:/bin', FULCRUM_RS_ADDRESS: '10.0.0.11' }, user: 'nobody' })).toMatchObject({ ok: true });
    expect(await scriptCheck({ argv: [check], timeoutMs: 3000, env: { PATH: '/usr/bin:/bin', FULCRUM_RS_ADDRESS: '10.0.0.11' } })).toMatchObject({ ok: false, reason: 'exit-code' });
    expect(await scriptCheck({ argv: [check], timeoutMs: 3000, user: 'no-such-user' })).toMatchObject({ ok: false, reason: 'error', message: 'user "no-such-user" not found in /etc/passwd' });
  });
});
