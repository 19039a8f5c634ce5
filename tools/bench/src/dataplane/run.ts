// The dataplane benchmark, run inside the lab VM: requests per second from the client through the VIP
// (IPVS, LVS-DR, wrr over rs1 and rs2) against straight to rs1, with the same bounded wrk run, the two
// alternating so that the guest's drift hits both alike. The table is what the kernel forwards:
// Fulcrum's agents program it but are not on the packets' path, so it is loaded here with ipvsadm.
// Run: node tools/lab/bin/lab.mjs -- node_modules/.bin/tsx tools/bench/src/dataplane/run.ts [--seconds 10] [--reps 3] [--connections 8]
import { mkdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { buildTopology, modprobe, seedsAddresses as a, seedsTopology, startNginx } from '@fulcrum/lab';
import { formatTable, median } from '../table.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    reps: { type: 'string', default: '3' },
    connections: { type: 'string', default: '8' },
  },
});
if (process.env.FULCRUM_LAB !== '1') {
  process.stderr.write('bench dataplane: run me inside the lab (node tools/lab/bin/lab.mjs -- node_modules/.bin/tsx tools/bench/src/dataplane/run.ts)\n');
  process.exit(2);
}
const seconds = Number(values.seconds);
const reps = Number(values.reps);
const connections = Number(values.connections);
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

await modprobe('ip_vs', 'ip_vs_wrr');
const t = await buildTopology(seedsTopology({ prefix: 'dp-' }));
try {
  await Promise.all([startNginx(t, 'rs1', { body: 'rs1' }), startNginx(t, 'rs2', { body: 'rs2' })]);
  await t.exec('director1', ['ipvsadm', '-A', '-t', `${a.vip}:80`, '-s', 'wrr']);
  for (const rs of [a.rs1, a.rs2]) await t.exec('director1', ['ipvsadm', '-a', '-t', `${a.vip}:80`, '-r', `${rs}:80`, '-g', '-w', '1']);
  await t.waitForTcp('client', a.rs1, 80);

  const wrk = async (url: string) => {
    const { stdout } = await t.exec('client', ['wrk', '-t1', `-c${connections}`, `-d${seconds}s`, url], { timeoutMs: (seconds + 60) * 1000 });
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
    const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
    if (!rps) throw new Error(`wrk printed no summary:\n${stdout}`);
    return { rps: Number(rps[1]), errors: errs ? errs.slice(1).reduce((s, n) => s + Number(n), 0) : 0 };
  };
  const paths = { 'through the VIP (DR, 2 real servers)': `http://${a.vip}/`, 'straight to rs1': `http://${a.rs1}/` };
  const runs: Record<string, { rps: number; errors: number }[]> = {};
  for (let i = 0; i < reps; i++) {
    for (const [name, url] of Object.entries(paths)) {
      const r = await wrk(url);
      log(`${name}: ${r.rps.toFixed(0)} req/s, ${r.errors} errors (run ${i + 1}/${reps})`);
      (runs[name] ??= []).push(r);
    }
  }
  const direct = median(runs['straight to rs1']!.map((r) => r.rps));
  const rows = Object.entries(runs).map(([name, rs]) => {
    const m = median(rs.map((r) => r.rps));
    return [name, Math.round(m), Math.round(Math.min(...rs.map((r) => r.rps))), Math.round(Math.max(...rs.map((r) => r.rps))), rs.reduce((s, r) => s + r.errors, 0), (m / direct).toFixed(2)];
  });
  process.stdout.write(
    `dataplane: wrk -t1 -c${connections} -d${seconds}s from client, ${reps} runs each, alternating (kernel ${release()}, TCG guest: compare rows, not with the host)\n` +
      `${formatTable(['path', 'req/s median', 'min', 'max', 'errors', 'vs direct'], rows)}\n`,
  );
  if (values.out) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify({ kernel: release(), seconds, reps, connections, runs }, null, 2)}\n`);
  }
} finally {
  await t.teardown();
}
