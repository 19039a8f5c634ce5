// VRRP failover benchmark: the gap a client sees when the master of a pair stops, Fulcrum's
// vrrp-agent pair against a keepalived pair, in the same network namespaces, in one run.
//
//   npx tsx tools/bench/src/vrrp/failover.ts [--runs N] [--quick | --interval 0.03]
//
// A client namespace sends a UDP request to the VIP every 10 ms; each router answers with its name.
// The master (priority 200) is stopped 1.5 s into the probe, either gracefully (SIGTERM: it sends
// priority 0) or as a crash (SIGKILL plus its link down, so its VIP cannot answer any more). The gap
// is the longest time between two answered requests (by their send times, so a stall of the probe
// while receiving is not counted), from the first answer to the end of the probe; "lost" counts
// requests without a reply. All processes of the bed run at nice -10, the same for both.
// Needs root, iproute2, keepalived and python3.
import { KeepalivedProcess, VrrpLan, keepalivedConf, longestOutage, sleep } from '@fulcrum/vrrp-agent/testing';
import type { NsProcess } from '@fulcrum/vrrp-agent/testing';

type Impl = 'fulcrum' | 'keepalived';
type Stop = 'graceful' | 'crash';
interface Setting {
  version: 2 | 3;
  interval: number;
}
interface Result {
  /** NaN when the pair did not settle with r1 answering (printed as "unsettled"). */
  gapMs: number;
  /** Requests sent in the run that got no reply. */
  lost: number;
}

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 1) || 1;
const only = args.includes('--interval') ? Number(args[args.indexOf('--interval') + 1]) : null;
const SETTINGS: Setting[] = args.includes('--quick')
  ? [{ version: 3, interval: 0.1 }]
  : only
    ? [{ version: only >= 1 && Number.isInteger(only) ? 2 : 3, interval: only }]
    : [
      { version: 2, interval: 1 },
      { version: 3, interval: 0.1 },
      { version: 3, interval: 0.03 },
    ];
const STOP_AT_MS = 1500;
const PRIO = { r1: 200, r2: 100 };

const lan = new VrrpLan(`fbv-${process.pid % 100_000}`, 234, 2);
const VIP = lan.vip();

function clearVips(): void {
  for (const i of [1, 2]) lan.exec(i, `ip addr del ${VIP}/32 dev eth0 2>/dev/null || true`);
}

async function startPair(impl: Impl, s: Setting): Promise<{ master: NsProcess; backup: NsProcess }> {
  if (impl === 'keepalived') {
    const conf = (name: string, priority: number) => keepalivedConf({ name, vrid: 51, priority, version: s.version, advertInterval: s.interval, vip: VIP });
    const master = lan.startKeepalived(1, conf('vi1', PRIO.r1));
    const backup = lan.startKeepalived(2, conf('vi1', PRIO.r2));
    await master.waitForLog(/\(vi1\) Entering MASTER STATE/, 30_000);
    await backup.waitForLog(/\(vi1\) Entering BACKUP STATE/, 30_000);
    return { master, backup };
  }
  const inst = { id: 'vi-1', version: s.version, virtualRouterId: 51, priorities: PRIO, advertInterval: s.interval, virtualAddresses: [{ address: VIP }] };
  const extra = { log: { level: 'info' }, announce: { repeatDelay: 0 } };
  const backup = lan.startAgent(2, [inst], extra);
  await backup.waitFor((l) => l.msg === 'vrrp transition', 60_000);
  const master = lan.startAgent(1, [inst], extra);
  await master.waitFor((l) => l.msg === 'vrrp transition' && l.to === 'master', 60_000);
  return { master, backup };
}

async function measure(impl: Impl, s: Setting, stop: Stop): Promise<Result> {
  clearVips();
  const { master, backup } = await startPair(impl, s);
  try {
    // Settle: the backup must have heard the master for a while (and the client's ARP learnt r1).
    await sleep(Math.max(1000, 5 * s.interval * 1000));
    lan.flushClientNeighbours();
    const durationMs = STOP_AT_MS + (3 * s.interval + 1) * 1000 + 2500;
    const probe = lan.probe(VIP, 10, durationMs);
    await probe.ready;
    await sleep(STOP_AT_MS);
    if (stop === 'crash') {
      if (master instanceof KeepalivedProcess) master.kill9();
      else master.child.kill('SIGKILL');
      lan.linkDown(1);
    } else {
      master.child.kill('SIGTERM');
    }
    const replies = await probe.done;
    if (replies[0]?.from !== 'r1' || !replies.some((r) => r.from === 'r2')) {
      throw new Error(`${impl} v${s.version} ${s.interval} s ${stop}: replies did not go from the master (r1) to the backup (r2): ${replies.map((r) => r.from).join(' ').slice(0, 300)}`);
    }
    // From the first answered request (the client's ARP for the VIP has resolved) to the end.
    return { gapMs: longestOutage(replies, replies[0].sent, durationMs / 1000), lost: Math.max(0, Math.floor(durationMs / 10) - replies.length) };
  } finally {
    // Nothing after the stop is measured: end both at once (keepalived's VRRP child too); the
    // next measurement starts by removing any address they left.
    for (const p of [master, backup]) if (p instanceof KeepalivedProcess) p.kill9();
    await master.stop('SIGKILL', 2000);
    await backup.stop('SIGKILL', 2000);
    lan.linkUp(1);
  }
}

const fmt = (r: Result[]) => {
  const gaps = r.map((x) => x.gapMs).filter((g) => !Number.isNaN(g));
  const unsettled = r.length - gaps.length;
  const range = gaps.length === 0 ? '-' : gaps.length === 1 ? `${gaps[0]}` : `${Math.min(...gaps)}-${Math.max(...gaps)}`;
  return unsettled > 0 ? `${range} (${unsettled} unsettled)` : range;
};
const fmtLost = (r: Result[]) => r.map((x) => `${x.lost}`).join('/');

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the VRRP benchmark needs root (network namespaces, raw sockets)');
  // Every process of the bed (both implementations, responders, probe) above the rest of the machine.
  lan.nice = -10;
  await lan.create();
  lan.startResponders();
  const rows: string[][] = [];
  const verdicts: string[] = [];
  try {
    for (const s of SETTINGS) {
      for (const stop of ['graceful', 'crash'] as const) {
        const results: Record<Impl, Result[]> = { fulcrum: [], keepalived: [] };
        for (let k = 0; k < runs; k += 1) {
          for (const impl of ['keepalived', 'fulcrum'] as const) {
            const r = await measure(impl, s, stop).catch((err: unknown) => {
              process.stderr.write(`${String(err).slice(0, 300)}\n`);
              return { gapMs: Number.NaN, lost: Number.NaN };
            });
            results[impl].push(r);
            process.stderr.write(`v${s.version} ${s.interval}s ${stop} ${impl}: gap ${r.gapMs} ms, ${r.lost} requests lost\n`);
          }
        }
        const settled = (impl: Impl) => results[impl].map((r) => r.gapMs).filter((g) => !Number.isNaN(g));
        const ours = Math.max(...settled('fulcrum'));
        const theirs = Math.max(...settled('keepalived'));
        const limit = s.interval <= 0.03 ? 150 : s.interval <= 0.1 ? 400 : Infinity;
        const ok = ours <= theirs * 1.1 + 20 && ours < limit;
        verdicts.push(ok ? 'ok' : 'MISSED');
        rows.push([`v${s.version} ${s.interval} s`, stop, fmt(results.fulcrum), fmt(results.keepalived), fmtLost(results.fulcrum), fmtLost(results.keepalived), `${ok ? 'ok' : 'MISSED'}${Number.isFinite(limit) ? ` (< ${limit})` : ''}`]);
      }
    }
  } finally {
    await lan.destroy();
  }
  const head = ['advert', 'master stops', 'Fulcrum gap ms', 'keepalived gap ms', 'Fulcrum lost', 'keepalived lost', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(`\nclient request every 10 ms, ${runs} run(s) per cell; target: Fulcrum's gap at most keepalived's (10 % + 20 ms slack for timer noise), < 400 ms at 0.1 s, < 150 ms at 0.03 s`);
  process.exitCode = verdicts.every((v) => v === 'ok') ? 0 : 1;
}

await main();
