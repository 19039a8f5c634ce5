import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The lab command itself, on the host: real qemu, real guest. Each test boots a VM (5-15 s on a
// busy two-core host).
const lab = fileURLToPath(new URL('../../bin/lab.mjs', import.meta.url));
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const boot = 120_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
  qemuPids: number[];
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        // /proc/<pid>/stat: pid (comm) state ppid ...; comm may hold spaces, so split after ')'
        return readFileSync(`/proc/${e}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Runs lab.mjs; `onOutput` may act on the output so far (e.g. signal the lab). */
function runLab(args: string[], onOutput?: (out: string, run: Run) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [lab, ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    const run: Run = { code: null, stdout: '', stderr: '', pid: child.pid ?? -1, qemuPids: [] };
    // The lab's children (qemu under setpriv): collected while it runs, checked after it exits.
    const poll = setInterval(() => {
      for (const pid of childrenOf(run.pid)) if (!run.qemuPids.includes(pid)) run.qemuPids.push(pid);
    }, 100);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      run.stdout += d;
      onOutput?.(run.stdout, run);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (run.stderr += d));
    child.on('close', (code) => {
      clearInterval(poll);
      run.code = code;
      resolve(run);
    });
  });
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
const controlDirsOf = (pid: number) => readdirSync(tmpdir()).filter((n) => n.startsWith(`fulcrum-lab-${pid}-`));

describe('lab (qemu on the host)', () => {
  const results = mkdtempSync(join(tmpdir(), 'fulcrum-lab-spec-'));
  afterAll(() => rmSync(results, { recursive: true, force: true }));

  it('streams the output of a failing command, exits with its code, and brings back files in --results', { timeout: boot }, async () => {
    const r = await runLab([
      '--results', results, '--',
      'sh', '-c', `echo to-stdout; echo to-stderr >&2; uname -r > ${results}/kernel; pwd >> ${results}/kernel; exit 7`,
    ]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stdout).toContain('to-stdout\nto-stderr\n');
    const [kernel, cwd] = readFileSync(join(results, 'kernel'), 'utf8').trim().split('\n');
    expect(kernel).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
    expect(cwd).toBe(repo.replace(/\/$/, ''));
    expect(r.stderr).toMatch(/lab: up in [\d.]+ s, exit 7 after [\d.]+ s/);
    expect(controlDirsOf(r.pid)).toEqual([]);
  });

  it('exits 128+N when the command is killed by signal N', { timeout: boot }, async () => {
    const r = await runLab(['--', 'sh', '-c', 'kill -TERM $$']);
    expect(r.code, r.stderr).toBe(143);
  });

  it('reports a guest that does not come up in time, within that time, and leaves no qemu behind', { timeout: boot }, async () => {
    const started = Date.now();
    const r = await runLab(['--boot-timeout', '1', '--', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('lab: the guest did not come up within 1 s');
    expect(Date.now() - started).toBeLessThan(30_000); // 1 s, plus starting node and qemu on a busy host
    expect(r.qemuPids.length).toBeGreaterThan(0);
    for (const pid of r.qemuPids) expect(alive(pid)).toBe(false);
    expect(controlDirsOf(r.pid)).toEqual([]);
  });

  it('--forward: a host loopback port reaches a listener in a namespace whose link is named eth0, as topologies name theirs', { timeout: boot }, async () => {
    const port = 19_000 + (process.pid % 1000);
    const server = `require('http').createServer((q, s) => s.end('forwarded-ok')).listen(8080, '10.99.77.2', () => console.log('serving'))`;
    const guest = [
      'ip netns add fwdspec',
      'ip link add eth0 netns fwdspec type veth peer name fwdspec0',
      'ip addr add 10.99.77.1/30 dev fwdspec0 && ip link set fwdspec0 up',
      'ip -n fwdspec link set lo up && ip -n fwdspec addr add 10.99.77.2/30 dev eth0 && ip -n fwdspec link set eth0 up',
      `exec ip netns exec fwdspec ${process.execPath} -e "${server}"`,
    ].join('\n');
    let answer = '';
    let asked = false;
    const r = await runLab(['--forward', `${port}:10.99.77.2:8080`, '--', 'sh', '-ec', guest], (out, run) => {
      if (asked || !out.includes('serving')) return;
      asked = true;
      void (async () => {
        for (let i = 0; i < 50 && answer === ''; i++) {
          answer = await fetch(`http://127.0.0.1:${port}/`).then((res) => res.text(), () => '');
          if (answer === '') await new Promise((res) => setTimeout(res, 200));
        }
        process.kill(run.pid, 'SIGTERM');
      })();
    });
    expect(r.stdout + r.stderr).not.toContain('File exists');
    expect(answer).toBe('forwarded-ok');
    expect(r.code).toBe(143);
  });

  it('stops the guest and cleans up when the lab gets SIGTERM', { timeout: boot }, async () => {
    let signalled = false;
    const r = await runLab(['--', 'sh', '-c', 'echo ready; sleep 600'], (out, run) => {
      if (!signalled && out.includes('ready')) {
        signalled = true;
        process.kill(run.pid, 'SIGTERM');
      }
    });
    expect(r.code).toBe(143);
    expect(r.stderr).toContain('lab: interrupted by SIGTERM; the guest was stopped');
    expect(r.qemuPids.length).toBeGreaterThan(0);
    for (const pid of r.qemuPids) expect(alive(pid)).toBe(false);
    expect(controlDirsOf(r.pid)).toEqual([]);
  });
});
