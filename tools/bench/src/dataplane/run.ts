// The dataplane benchmark, run inside the lab VM: requests per second from the client through the VIP
// of the demo's Fulcrum cluster (the seed's keepalived.conf imported through config-api: LVS-DR, wrr over
// rs1 and rs2, every agent running on both directors and the real servers) against straight to rs1, with
// the same bounded wrk run, the two alternating so that the guest's drift hits both alike. The agents
// program the kernel and watch it but are not on the packets' path: the ratio shows what they cost it.
// Run: npm run bench -- dataplane [--seconds 10] [--reps 3] [--connections 8]
import { mkdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { addresses as a, importKeepalived, repoRoot, startCluster, waitReady, wrk } from '@fulcrum/demo';
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
  process.stderr.write('bench dataplane: run me inside the lab (npm run bench -- dataplane)\n');
  process.exit(2);
}
const seconds = Number(values.seconds);
const reps = Number(values.reps);
const connections = Number(values.connections);
for (const [k, v] of Object.entries({ seconds, reps, connections })) {
  if (!Number.isInteger(v) || v < 1 || v > 600) {
    process.stderr.write(`bench dataplane: --${k} must be a whole number from 1 to 600\n`);
    process.exit(2);
  }
}
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

const c = await startCluster({ say: log });
try {
  await importKeepalived(c, { director1: `${repoRoot}deploy/demo/keepalived-director1.conf`, director2: `${repoRoot}deploy/demo/keepalived-director2.conf` }, log);
  await waitReady(c, { rs1: 3, rs2: 3 });
  log(`cluster ready; director1 holds the VIP:\n${await c.ipvsadm('director1')}`);

  const paths = { 'through the VIP (Fulcrum, DR, wrr over 2 real servers)': `http://${a.vip}/`, 'straight to rs1': `http://${a.rs1}/` };
  const runs: Record<string, { rps: number; errors: number }[]> = {};
  for (let i = 0; i < reps; i++) {
    for (const [name, url] of Object.entries(paths)) {
      const r = await wrk(c.t, 'client', url, seconds, connections);
      log(`${name}: ${r.requestsPerSecond.toFixed(0)} req/s, ${r.errors} errors (run ${i + 1}/${reps})`);
      (runs[name] ??= []).push({ rps: r.requestsPerSecond, errors: r.errors });
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
  await c.teardown();
}
