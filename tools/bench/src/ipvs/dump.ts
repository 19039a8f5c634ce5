// Reading the whole IPVS table: `ipvsadm -Ln` against NetlinkIpvs.dump(), in the same lab VM run.
// Run inside the lab:
//
//   node tools/lab/bin/lab.mjs -- node_modules/.bin/tsx tools/bench/src/ipvs/dump.ts [--sizes 1000x10] [--reps 3] [--sockets 1,4]
//
// Each size is loaded once with ipvsadm-restore; then every repetition times ipvsadm -Ln (the
// process, its listing thrown away) and one dump() per `--sockets` setting (destination dumps in flight).
import { release } from 'node:os';
import { parseArgs } from 'node:util';
import { NetlinkIpvs } from '@fulcrum/netlink';
import type { Cell } from '../table.js';
import { formatTable, median } from '../table.js';
import { log, parseSizes, prepareLabKernel, restoreText, seconds, services, sh } from './fixture.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '1000x10,100x100' },
    sockets: { type: 'string', default: '1,4' },
  },
});
if (process.env.FULCRUM_LAB !== '1') {
  process.stderr.write('bench ipvs dump: run me inside the lab\n');
  process.exit(2);
}
const reps = Number(values.reps);
const sizes = parseSizes(values.sizes as string);
const socketCounts = (values.sockets as string).split(',').map(Number);

prepareLabKernel();

const rows: Cell[][] = [];
for (const [count, dests] of sizes) {
  const label = `${count.toLocaleString('en')} x ${dests}`;
  sh('ipvsadm', ['-C']);
  sh('ipvsadm-restore', [], restoreText(services(count, dests)));
  const ipvsadm: number[] = [];
  const agent = new Map<number, number[]>(socketCounts.map((n) => [n, []]));
  for (let r = 0; r < reps; r++) {
    let t0 = process.hrtime.bigint();
    const listing = sh('ipvsadm', ['-Ln']);
    ipvsadm.push(seconds(t0));
    if ((listing.match(/->/g) ?? []).length !== count * dests + 1) throw new Error(`${label}: ipvsadm -Ln listed ${(listing.match(/->/g) ?? []).length - 1} destinations`);
    for (const n of socketCounts) {
      const ipvs = await NetlinkIpvs.open({ dumpSockets: n });
      t0 = process.hrtime.bigint();
      const dump = await ipvs.dump();
      agent.get(n)?.push(seconds(t0));
      await ipvs.close();
      const got = dump.services.reduce((a, s) => a + s.destinations.length, 0);
      if (dump.services.length !== count || got !== count * dests) throw new Error(`${label}: dump() returned ${dump.services.length} services, ${got} destinations`);
    }
    log(`${label}: ipvsadm -Ln ${ipvsadm.at(-1)?.toFixed(2)} s, dump() ${[...agent].map(([n, t]) => `${n}: ${t.at(-1)?.toFixed(2)} s`).join(', ')}`);
  }
  for (const [n, t] of agent) rows.push([`full dump, ${label}, ${n} dump(s) in flight`, median(ipvsadm), median(t), median(t) / median(ipvsadm), `median of ${reps}`]);
}
sh('ipvsadm', ['-C']);
process.stdout.write(`\nipvs dump (lab guest, kernel ${release()}; ratio = dump() / ipvsadm -Ln)\n${formatTable(['what', 'ipvsadm -Ln s', 'dump() s', 'ratio', 'note'], rows)}\n`);
