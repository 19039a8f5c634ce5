// The cost of a full reconcile pass that has nothing to do, against the cost of the load that
// built the table, on the in-memory kernel (no lab needed; the CPU work is the same as on a
// director, only the netlink writes are missing):
//
//   npx tsx tools/bench/src/ipvs/noop-pass.ts [--sizes 10000x5] [--reps 5]
//
// Profile with many repetitions, so the passes outweigh the load:
//   node --cpu-prof --cpu-prof-dir /tmp/prof --import tsx tools/bench/src/ipvs/noop-pass.ts --sizes 10000x5 --reps 50
import { parseArgs } from 'node:util';
import { Reconciler } from '@fulcrum/ipvs-agent';
import { InMemoryIpvs } from '@fulcrum/netlink/testing';
import { memoryLogger } from '@fulcrum/testing';
import type { Cell } from '../table.js';
import { formatTable, median } from '../table.js';
import { parseSizes, services } from './fixture.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '1000x10,10000x5' },
  },
});
const reps = Number(values.reps);
const sizes = parseSizes(values.sizes as string);
// CPU time of this process, not wall time: the work is all here, and a crowded host would otherwise decide the figures.
const cpu = () => process.cpuUsage();
const ms = (t0: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
};
const rows: Cell[][] = [];
for (const [count, dests] of sizes) {
  const label = `${count.toLocaleString('en')} x ${dests}`;
  const desired = services(count, dests);
  const ipvs = new InMemoryIpvs();
  const rec = new Reconciler({ ipvs, logger: memoryLogger('info').logger, driftCheckMs: 0 });
  await rec.start();
  let t0 = cpu();
  await rec.setDesired(desired, 1);
  const load = ms(t0);
  const noop: number[] = [];
  for (let r = 0; r < reps; r++) {
    t0 = cpu();
    const pass = await rec.reconcileNow();
    noop.push(ms(t0));
    if (pass.ops.length > 0) throw new Error(`${label}: the no-op pass wrote ${pass.ops.length} ops`);
  }
  await rec.stop();
  rows.push([`full no-op pass, ${label}`, load, median(noop), median(noop) / load, `median of ${reps}`]);
}
process.stdout.write(
  `\nno-op reconcile on the in-memory kernel (host, CPU ms; ratio = no-op pass / load)\n${formatTable(['what', 'load ms', 'no-op pass ms', 'ratio', 'note'], rows)}\n`,
);
