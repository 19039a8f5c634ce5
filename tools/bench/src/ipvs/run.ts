// The ipvs benchmark, run inside the lab VM (bin/bench.mjs boots it): loading a table from empty
// with ipvsadm-restore and with ipvs-agent (the director's reconcile pass on the real kernel), one
// weight change in the 50,000-destination table from the KV write to the kernel, and a no-op
// reconcile. Every timing is taken in the same VM run; the guest is slow, so only ratios matter.
import { mkdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { connectBus, openStore } from '@fulcrum/bus';
import { Reconciler, attachDirector } from '@fulcrum/ipvs-agent';
import { CountingIpvs } from '@fulcrum/ipvs-agent/testing';
import { NetlinkIpvs } from '@fulcrum/netlink';
import type { VirtualService } from '@fulcrum/schemas';
import { desiredBucket, desiredKey } from '@fulcrum/schemas';
import { memoryLogger, startNats } from '@fulcrum/testing';
import type { Cell } from '../table.js';
import { formatTable, median } from '../table.js';
import { addr, log, parseSizes, prepareLabKernel, restoreText, seconds, services, sh } from './fixture.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    reps: { type: 'string', default: '2' },
    sizes: { type: 'string', default: '1000x10,10000x5' },
  },
});
const reps = Number(values.reps);
const sizes = values.sizes === 'none' ? [] : parseSizes(values.sizes as string);

if (process.env.FULCRUM_LAB !== '1') {
  process.stderr.write('bench ipvs: run me inside the lab (npm run bench -- ipvs)\n');
  process.exit(2);
}

prepareLabKernel();

const flush = () => sh('ipvsadm', ['-C']);
const logger = memoryLogger('warn').logger;

interface Row {
  what: string;
  ipvsadm: number | null;
  agent: number | null;
  note: string;
}
const rows: Row[] = [];
const results: Record<string, unknown> = { kernel: release(), reps, time: new Date().toISOString() };

for (const [count, dests] of sizes) {
  const label = `${count.toLocaleString('en')} x ${dests}`;
  const desired = services(count, dests);
  const text = restoreText(desired);
  const restore: number[] = [];
  const agent: number[] = [];
  for (let r = 0; r < reps; r++) {
    flush();
    let t0 = process.hrtime.bigint();
    sh('ipvsadm-restore', [], text);
    restore.push(seconds(t0));
    log(`${label}: ipvsadm-restore ${restore.at(-1)?.toFixed(2)} s`);
    flush();
    const ipvs = await NetlinkIpvs.open();
    t0 = process.hrtime.bigint();
    const rec = new Reconciler({ ipvs, logger, driftCheckMs: 0 });
    await rec.start();
    const pass = await rec.setDesired(desired, 1);
    agent.push(seconds(t0));
    await rec.stop();
    await ipvs.close();
    if (pass.failures.length > 0) throw new Error(`agent load failed: ${pass.failures.length} writes refused`);
    log(`${label}: ipvs-agent ${agent.at(-1)?.toFixed(2)} s`);
  }
  // Both tools must have built the same table.
  const saved = sh('ipvsadm-save', ['-n']);
  if (saved !== text) throw new Error(`${label}: the agent's table differs from the ipvsadm-restore input`);
  rows.push({ what: `load from empty, ${label}`, ipvsadm: median(restore), agent: median(agent), note: `median of ${reps}` });

  // Reading the whole table back: ipvsadm -Ln (process and listing included) against one dump().
  const listing: number[] = [];
  const dumps: number[] = [];
  const reader = await NetlinkIpvs.open();
  for (let r = 0; r < reps; r++) {
    let t0 = process.hrtime.bigint();
    sh('ipvsadm', ['-Ln']);
    listing.push(seconds(t0));
    t0 = process.hrtime.bigint();
    const dump = await reader.dump();
    dumps.push(seconds(t0));
    if (dump.services.length !== count) throw new Error(`${label}: dump() returned ${dump.services.length} services`);
  }
  await reader.close();
  log(`${label}: ipvsadm -Ln ${median(listing).toFixed(2)} s, dump() ${median(dumps).toFixed(2)} s`);
  rows.push({ what: `read the whole table, ${label}`, ipvsadm: median(listing), agent: median(dumps), note: `ipvsadm -Ln vs dump(); median of ${reps}` });
  results[`load ${count}x${dests}`] = { ipvsadmRestore: restore, ipvsAgent: agent, ipvsadmList: listing, dump: dumps };
}

// The 50,000-destination table: one weight change from the KV write to the kernel.
{
  const [count, dests] = [10_000, 5];
  const desired = services(count, dests);
  flush();
  const ipvs = await NetlinkIpvs.open();
  const loader = new Reconciler({ ipvs, logger, driftCheckMs: 0 });
  await loader.start();
  let t0 = process.hrtime.bigint();
  await loader.setDesired(desired, 1);
  const fullLoad = seconds(t0);
  await loader.stop();

  const nats = await startNats({ jetstream: true });
  const admin = await connectBus({ servers: nats.url, name: 'bench', timeoutMs: 60_000 });
  const bus = await connectBus({ servers: nats.url, name: 'ipvs-agent@bench', timeoutMs: 60_000 });
  const store = await openStore(admin, desiredBucket);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < desired.length; i += 200) {
    await Promise.all(desired.slice(i, i + 200).map((vs) => store.put(desiredKey('virtual-service', vs.id), vs)));
  }
  log(`KV filled with ${count} services in ${seconds(t0).toFixed(1)} s`);

  const counting = new CountingIpvs(ipvs);
  let applied: (() => void) | undefined;
  const rec = new Reconciler({ ipvs: counting.control(), logger, driftCheckMs: 0, coalesceMs: 0, onApplied: () => applied?.() });
  t0 = process.hrtime.bigint();
  await rec.start();
  const link = await attachDirector({ bus, host: 'bench', logger, reconciler: rec, ipvs: counting.control() });
  const adopt = seconds(t0);
  const adoptWrites = counting.writes;
  log(`agent attached (adopt + full KV read) in ${adopt.toFixed(2)} s with ${adoptWrites} writes`);

  const changed = desired[4321] as VirtualService;
  const edited: VirtualService = { ...changed, realServers: changed.realServers.map((rs, j) => (j === 2 ? { ...rs, weight: rs.weight + 10 } : rs)) };
  const before = counting.writes;
  const done = new Promise<void>((resolve) => (applied = resolve));
  t0 = process.hrtime.bigint();
  await store.put(desiredKey('virtual-service', edited.id), edited);
  await done;
  const change = seconds(t0);
  const writes = counting.writes - before;
  const rsAddr = edited.realServers[2]?.address as string;
  const kernelLine = sh('ipvsadm', ['-Ln', '-t', `${addr(1, 4321)}:80`]).split('\n').find((l) => l.includes(rsAddr)) ?? '';
  if (!kernelLine.includes(` ${(edited.realServers[2]?.weight ?? 0).toString()} `)) throw new Error(`the kernel does not hold the new weight: ${kernelLine}`);
  t0 = process.hrtime.bigint();
  sh('ipvsadm', ['-e', '-t', `${addr(1, 4321)}:80`, '-r', `${rsAddr}:80`, '-g', '-w', String((edited.realServers[2]?.weight ?? 0) + 1)]);
  const ipvsadmEdit = seconds(t0);
  rows.push({ what: 'one weight change, 50,000 dests: KV write -> kernel', ipvsadm: ipvsadmEdit, agent: change, note: `${writes} netlink write(s); ipvsadm: one -e` });

  // Undo the hand edit first so the no-op pass really has nothing to do.
  sh('ipvsadm', ['-e', '-t', `${addr(1, 4321)}:80`, '-r', `${rsAddr}:80`, '-g', '-w', String(edited.realServers[2]?.weight ?? 0)]);
  const noop: number[] = [];
  for (let r = 0; r < 5; r++) {
    t0 = process.hrtime.bigint();
    const pass = await rec.reconcileNow();
    noop.push(seconds(t0));
    if (pass.ops.length > 0) throw new Error('the no-op pass wrote');
  }
  rows.push({ what: 'no-op reconcile, 50,000 dests (vs full load)', ipvsadm: fullLoad, agent: median(noop), note: 'full pass, no dump; ipvsadm column: the agent\'s full load' });
  t0 = process.hrtime.bigint();
  await rec.checkDrift();
  const drift = seconds(t0);
  rows.push({ what: 'drift check (dump + diff), 50,000 dests (vs full load)', ipvsadm: fullLoad, agent: drift, note: 'ipvsadm column: the agent\'s full load' });
  results.weightChange = { seconds: change, netlinkWrites: writes, ipvsadmEdit, adoptSeconds: adopt, adoptWrites };
  results.noop = { seconds: noop, fullLoad, driftCheck: drift };
  link.close();
  await rec.stop();
  await ipvs.close();
  await bus.close();
  await admin.close();
  await nats.dispose();
}

const table = formatTable(
  ['what', 'ipvsadm s', 'ipvs-agent s', 'ratio', 'note'],
  rows.map((r): Cell[] => [r.what, r.ipvsadm, r.agent, r.ipvsadm && r.agent !== null ? r.agent / r.ipvsadm : null, r.note]),
);
process.stdout.write(`\nipvs benchmark (lab guest, kernel ${release()}; ratio = ipvs-agent / ipvsadm)\n${table}\n`);
results.rows = rows;
if (values.out) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
}
