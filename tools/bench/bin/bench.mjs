#!/usr/bin/env node
// npm run bench -- <name> [options]: boots the kernel lab once and runs one benchmark inside it.
// The benchmark prints its table on stdout and writes its JSON results to tools/bench/results/<name>.json.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const BENCHMARKS = {
  dataplane: {
    script: 'tools/bench/src/dataplane/run.ts',
    summary: "requests/s through the VIP of the demo's Fulcrum cluster (DR) vs straight to one real server, same wrk run length; options: --seconds N, --reps N, --connections N",
    // The cluster's eleven processes start at once: a second vCPU halves that wait.
    lab: ['--cpus', '2'],
  },
  ipvs: {
    script: 'tools/bench/src/ipvs/run.ts',
    summary: 'table load (ipvsadm-restore vs ipvs-agent), whole-table read (ipvsadm -Ln vs dump()), one weight change from KV to kernel, no-op reconcile, drift check; options: --reps N, --sizes 1000x10,10000x5',
  },
};

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || !(name in BENCHMARKS)) {
  const list = Object.entries(BENCHMARKS).map(([n, b]) => `  ${n.padEnd(6)} ${b.summary}`).join('\n');
  process.stderr.write(`usage: npm run bench -- <name> [options]\nbenchmarks:\n${list}\n`);
  process.exit(name && name !== '--help' && name !== '-h' ? 2 : 0);
}
const results = `${root}tools/bench/results`;
mkdirSync(results, { recursive: true });
const args = [
  `${root}tools/lab/bin/lab.mjs`, '--results', results, '--mem', '4096', '--timeout', '5400', ...(BENCHMARKS[name].lab ?? []), '--',
  'node_modules/.bin/tsx', BENCHMARKS[name].script, '--out', `${results}/${name}.json`, ...rest,
];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
