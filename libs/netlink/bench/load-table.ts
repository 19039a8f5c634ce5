// Loading a big table: NetlinkIpvs.apply() against Debian's ipvsadm-restore, in the same kernel and
// the same run. Not a test; run it inside the lab (it needs real IPVS and root):
//
//   node tools/lab/bin/lab.mjs -- node_modules/.bin/tsx libs/netlink/bench/load-table.ts [SxD ...] [--reps N]
//
// Shapes default to 1000x10 and 10000x5. Each repetition flushes, loads with ipvsadm-restore, checks
// the count, flushes, loads with apply(), checks the count, and times one dump() of the full table.
import { execFileSync, spawnSync } from 'node:child_process';
import type { IpvsService } from '@fulcrum/schemas';
import { ipvsDestination, ipvsService } from '@fulcrum/schemas';
import { NetlinkIpvs } from '../src/index.js';
import type { IpvsOp } from '../src/index.js';

const NS = 'fnl-bench';
const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const reps = repsAt === -1 ? 3 : Number(args[repsAt + 1]);
const shapes = args.filter((a, i) => /^\d+x\d+$/.test(a) && i !== repsAt + 1);
const say = (s: string): void => void process.stdout.write(`${s}\n`);
const sh = (cmd: string, a: string[], input?: string): string => execFileSync(cmd, a, { encoding: 'utf8', input, maxBuffer: 1 << 28 });

function table(nServices: number, nDests: number): IpvsService[] {
  return Array.from({ length: nServices }, (_, i) =>
    ipvsService.parse({
      key: { kind: 'addr', protocol: 'tcp', address: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, port: 80 },
      scheduler: 'wlc',
      destinations: Array.from({ length: nDests }, (_, j) => ipvsDestination.parse({ address: `10.0.${1 + (j >> 8)}.${10 + (j & 255)}`, port: 8080, forward: 'masq', weight: 1 + (j % 10) })),
    }),
  );
}

function restoreText(services: IpvsService[]): string {
  const out: string[] = [];
  for (const s of services) {
    if (s.key.kind !== 'addr') continue;
    const v = `${s.key.address}:${s.key.port}`;
    out.push(`-A -t ${v} -s ${s.scheduler}`);
    for (const d of s.destinations) out.push(`-a -t ${v} -r ${d.address}:${d.port} -m -w ${d.weight}`);
  }
  return `${out.join('\n')}\n`;
}

// Counted with ipvsadm-save: /proc/net/ip_vs skips entries when another namespace also has services.
function countEntries(): { services: number; dests: number } {
  const text = sh('ip', ['netns', 'exec', NS, 'ipvsadm-save', '-n']);
  return { services: (text.match(/^-A /gm) ?? []).length, dests: (text.match(/^-a /gm) ?? []).length };
}

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

sh('modprobe', ['-a', 'ip_vs', 'ip_vs_wlc', 'dummy']);
spawnSync('ip', ['netns', 'del', NS]);
sh('ip', ['netns', 'add', NS]);
sh('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
sh('ip', ['-n', NS, 'link', 'add', 'd0', 'type', 'dummy']);
sh('ip', ['-n', NS, 'link', 'set', 'd0', 'up']);
sh('ip', ['-n', NS, 'addr', 'add', '10.0.0.1/16', 'dev', 'd0']);
const k = await NetlinkIpvs.open({ netns: NS });
try {
  for (const shape of shapes.length ? shapes : ['1000x10', '10000x5']) {
    const [ns, nd] = shape.split('x').map(Number) as [number, number];
    const services = table(ns, nd);
    const text = restoreText(services);
    const ops: IpvsOp[] = services.flatMap((s) => [{ op: 'addService' as const, service: s }, ...s.destinations.map((d) => ({ op: 'addDestination' as const, key: s.key, destination: d }))]);
    for (let r = 1; r <= reps; r += 1) {
      await k.flush();
      let t0 = process.hrtime.bigint();
      sh('ip', ['netns', 'exec', NS, 'ipvsadm-restore'], text);
      const restore = seconds(t0);
      const c1 = countEntries();
      await k.flush();
      t0 = process.hrtime.bigint();
      const results = await k.apply(ops);
      const apply = seconds(t0);
      const failed = results.filter((x) => !x.ok).length;
      const c2 = countEntries();
      t0 = process.hrtime.bigint();
      const dump = await k.dump();
      const dumpSecs = seconds(t0);
      t0 = process.hrtime.bigint();
      sh('ip', ['netns', 'exec', NS, 'ipvsadm', '-Ln']);
      const list = seconds(t0);
      const dumped = dump.services.reduce((n, s) => n + s.destinations.length, 0);
      say(
        `${shape} rep ${r}: ipvsadm-restore ${restore.toFixed(2)} s (${c1.services}/${c1.dests}) | apply ${apply.toFixed(2)} s (${c2.services}/${c2.dests}, ${failed} failed) | ` +
          `dump ${dumpSecs.toFixed(2)} s (${dump.services.length}/${dumped}) | ipvsadm -Ln ${list.toFixed(2)} s`,
      );
    }
  }
  await k.flush();
} finally {
  await k.close();
  spawnSync('ip', ['netns', 'del', NS]);
}
