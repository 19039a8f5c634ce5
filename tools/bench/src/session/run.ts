// Session-store proxy benchmark: redis-benchmark SET/GET straight to Redis, through Fulcrum's proxy and
// through twemproxy (nutcracker) in front of the same Redis, unpipelined and with -P 16; then the latency a
// proxy adds at a fixed moderate rate (p50/p99 of GETs). Rounds are interleaved and the median is reported,
// since the host is shared. Throughput on a crowded host swings with the neighbours; the CPU time each proxy process
// spends per request (from /proc) does much less, so it is printed too. Needs redis-server, redis-benchmark and nutcracker (Debian packages).
//
//   npx tsx tools/bench/src/session/run.ts [--requests 100000] [--rounds 3] [--rate 2000] [--seconds 5]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, makeTempDir, startProcess, startRedis } from '@fulcrum/testing';

const run = promisify(execFile);
const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const REQUESTS = opt('requests', 100_000);
const ROUNDS = opt('rounds', 3);
const RATE = opt('rate', 2000);
const SECONDS = opt('seconds', 5);
const CLIENTS = 50;

type Target = 'direct' | 'fulcrum' | 'twemproxy';
const TARGETS: Target[] = ['direct', 'fulcrum', 'twemproxy'];

async function startFulcrum(redisPort: number): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./proxy-child.ts', import.meta.url).pathname, String(redisPort)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`proxy exited with ${code}`)));
  });
  return { port, child };
}

async function startTwemproxy(redisPort: number) {
  const dir = makeTempDir('nutcracker');
  const host = '127.0.0.1';
  const port = await freePort(host);
  const stats = await freePort(host);
  const conf = join(dir, 'nutcracker.yml');
  writeFileSync(
    conf,
    ['sessions:', `  listen: ${host}:${port}`, '  hash: fnv1a_64', '  distribution: ketama', '  redis: true',
      '  auto_eject_hosts: false', '  servers:', `    - ${host}:${redisPort}:1`, ''].join('\n'),
  );
  return startProcess({ name: 'nutcracker', command: 'nutcracker', args: ['-c', conf, '-s', String(stats), '-a', host, '-o', join(dir, 'log')], dir, host, port });
}

/** requests per second for SET and GET. */
async function benchmark(port: number, pipeline: number): Promise<{ set: number; get: number }> {
  const { stdout } = await run('redis-benchmark', ['-p', String(port), '-t', 'set,get', '-c', String(CLIENTS), '-n', String(REQUESTS), '-P', String(pipeline), '--csv'], { timeout: 600_000 });
  const rps = (test: string) => {
    const line = stdout.split('\n').find((l) => l.startsWith(`"${test}"`));
    if (!line) throw new Error(`redis-benchmark printed no ${test} line: ${stdout.slice(0, 300)}`);
    return Number(line.split(',')[1]?.replace(/"/g, ''));
  };
  return { set: rps('SET'), get: rps('GET') };
}

/** GETs at a fixed total rate over 10 connections; returns p50 and p99 in ms. */
async function latencyAtRate(port: number): Promise<{ p50: number; p99: number; lost: number }> {
  const conns = 10;
  const perConnInterval = (1000 * conns) / RATE;
  const samples: number[] = [];
  let lost = 0;
  await Promise.all(
    Array.from({ length: conns }, () =>
      new Promise<void>((resolve, reject) => {
        const s = createConnection({ host: '127.0.0.1', port });
        s.setNoDelay(true);
        const sent: number[] = [];
        let buf = '';
        s.on('data', (d: Buffer) => {
          buf += d.toString('latin1');
          // Replies are "$-1\r\n" or "$n\r\n<value>\r\n": count complete ones.
          for (;;) {
            const m = /^(\$-1\r\n|\$(\d+)\r\n)/.exec(buf);
            if (!m) break;
            const len = m[2] === undefined ? 0 : Number(m[2]) + 2;
            if (buf.length < m[0].length + len) break;
            buf = buf.slice(m[0].length + len);
            const t = sent.shift();
            if (t !== undefined) samples.push(performance.now() - t);
          }
        });
        s.once('error', reject);
        s.once('connect', () => {
          const cmd = '*2\r\n$3\r\nGET\r\n$9\r\nbench:key\r\n';
          const end = performance.now() + SECONDS * 1000;
          const tick = () => {
            if (performance.now() >= end) {
              setTimeout(() => {
                lost += sent.length;
                s.destroy();
                resolve();
              }, 500);
              return;
            }
            sent.push(performance.now());
            s.write(cmd);
            setTimeout(tick, perConnInterval);
          };
          setTimeout(tick, Math.random() * perConnInterval);
        });
      }),
    ),
  );
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), lost };
}

const CLOCK_TICKS = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;

/** User + system CPU time of a process so far, in microseconds. */
function cpuMicros(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const redis = await startRedis();
const redisPort = Number(new URL(redis.url).port);
const fulcrum = await startFulcrum(redisPort);
const twem = await startTwemproxy(redisPort);
const ports: Record<Target, number> = { direct: redisPort, fulcrum: fulcrum.port, twemproxy: twem.port };
const pids: Record<Target, number | undefined> = { direct: redis.pid, fulcrum: fulcrum.child.pid, twemproxy: twem.pid };
await run('redis-cli', ['-p', String(redisPort), 'SET', 'bench:key', 'x'.repeat(200)]);

try {
  const rps: Record<string, number[]> = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const pipeline of [1, 16]) {
      for (const t of TARGETS) {
        const cpuBefore = cpuMicros(pids[t]);
        const r = await benchmark(ports[t], pipeline);
        (rps[`${t} P${pipeline} set`] ??= []).push(r.set);
        (rps[`${t} P${pipeline} get`] ??= []).push(r.get);
        // SET and GET runs together: 2 x REQUESTS requests.
        (rps[`${t} P${pipeline} cpu`] ??= []).push((cpuMicros(pids[t]) - cpuBefore) / (2 * REQUESTS));
        process.stderr.write(`round ${round} -P ${pipeline} ${t}: SET ${r.set.toFixed(0)}/s GET ${r.get.toFixed(0)}/s\n`);
      }
    }
  }
  const m = (t: Target, p: number, op: string) => median(rps[`${t} P${p} ${op}`] ?? []);
  const rows: string[] = [];
  rows.push(`redis-benchmark -c ${CLIENTS} -n ${REQUESTS}, median of ${ROUNDS} interleaved rounds (requests/s)`);
  rows.push('| test | direct | fulcrum | twemproxy | fulcrum/direct | fulcrum/twemproxy |');
  rows.push('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const p of [1, 16]) {
    for (const op of ['set', 'get']) {
      const d = m('direct', p, op);
      const f = m('fulcrum', p, op);
      const tw = m('twemproxy', p, op);
      rows.push(`| ${op.toUpperCase()} -P ${p} | ${d.toFixed(0)} | ${f.toFixed(0)} | ${tw.toFixed(0)} | ${(f / d).toFixed(2)}x | ${(f / tw).toFixed(2)}x |`);
    }
  }
  rows.push('');
  // Issue 8's targets: unpipelined at least 0.9x direct; at least 0.8x twemproxy pipelined and unpipelined.
  rows.push('Targets (issue 8)');
  rows.push('| target | measured (worst of SET, GET) | met |');
  rows.push('| --- | ---: | --- |');
  const worst = (p: number, over: Target) => Math.min(...['set', 'get'].map((op) => m('fulcrum', p, op) / m(over, p, op)));
  for (const [label, p, over, goal] of [
    ['-P 1: fulcrum >= 0.9x direct', 1, 'direct', 0.9],
    ['-P 1: fulcrum >= 0.8x twemproxy', 1, 'twemproxy', 0.8],
    ['-P 16: fulcrum >= 0.8x twemproxy', 16, 'twemproxy', 0.8],
  ] as const) {
    const r = worst(p, over);
    rows.push(`| ${label} | ${r.toFixed(2)}x | ${r >= goal ? 'met' : 'NOT met'} |`);
  }
  rows.push('');
  rows.push('CPU time of the server process per request (SET and GET runs together, microseconds; median of the rounds)');
  rows.push('| pipeline | redis (direct) | fulcrum | twemproxy | twemproxy/fulcrum |');
  rows.push('| --- | ---: | ---: | ---: | ---: |');
  for (const p of [1, 16]) {
    const [d, f, tw] = TARGETS.map((t) => m(t, p, 'cpu'));
    rows.push(`| -P ${p} | ${d?.toFixed(1)} | ${f?.toFixed(1)} | ${tw?.toFixed(1)} | ${((tw ?? NaN) / (f ?? NaN)).toFixed(2)}x |`);
  }
  rows.push('');
  rows.push(`GET latency at ${RATE} requests/s for ${SECONDS} s over 10 connections (ms)`);
  rows.push('| target | p50 | p99 | added p99 | lost |');
  rows.push('| --- | ---: | ---: | ---: | ---: |');
  const lat: Partial<Record<Target, { p50: number; p99: number; lost: number }>> = {};
  for (const t of TARGETS) lat[t] = await latencyAtRate(ports[t]);
  for (const t of TARGETS) {
    const l = lat[t] as { p50: number; p99: number; lost: number };
    const added = t === 'direct' ? '' : (l.p99 - (lat.direct?.p99 ?? NaN)).toFixed(3);
    rows.push(`| ${t} | ${l.p50.toFixed(3)} | ${l.p99.toFixed(3)} | ${added} | ${l.lost} |`);
  }
  process.stdout.write(`${rows.join('\n')}\n`);
} finally {
  fulcrum.child.kill('SIGTERM');
  await twem.dispose();
  await redis.dispose();
}
