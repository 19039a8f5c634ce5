import { setTimeout as sleep } from 'node:timers/promises';
import { httpGetMany, tally } from '@fulcrum/lab';
import { addresses, type Cluster, until } from './cluster.js';
import { answersFrom, longestPause, outageSince, type ProbeRecord, probeWarm, startProbe, transitionAt, wrk } from './measure.js';

// The seed's tests, in order, each with what it must show. A step's figures come from the client:
// a probe sending one request every few ms through the VIP while the step happens.

export interface StepResult {
  step: string;
  expected: string;
  observed: string;
  ok: boolean;
  /** The figures, for specs and the summary. */
  figures: Record<string, number | string>;
}

export interface ScenarioOptions {
  /** Longest time a failed real server may still get requests: the health check's detection window. */
  detectMs: number;
  /** Longest client outage allowed when the master director crashes. */
  failoverGapMs: number;
  /** Longest client outage allowed when the restored director takes the VIP back. */
  failbackGapMs: number;
  /** Weights of rs1 and rs2 (the split expected over `splitRequests` requests). */
  weights: { rs1: number; rs2: number };
  splitRequests: number;
  wrkSeconds: number;
  probeIntervalMs: number;
  say: (line: string) => void;
}

const url = `http://${addresses.vip}/`;
const VIP_MS = 60_000;

function expectedSplit(o: ScenarioOptions): Record<string, number> {
  const sum = o.weights.rs1 + o.weights.rs2;
  return { rs1: (o.splitRequests * o.weights.rs1) / sum, rs2: (o.splitRequests * o.weights.rs2) / sum };
}

const fmtSplit = (s: Record<string, number>) =>
  Object.keys(s)
    .sort()
    .map((k) => `${k} ${s[k]}`)
    .join(', ') || 'none';

/** wrr over a run of new connections gives the exact weighted split, give or take one round. */
function splitOk(got: Record<string, number>, o: ScenarioOptions): boolean {
  const want = expectedSplit(o);
  const round = o.weights.rs1 + o.weights.rs2;
  return Object.keys(got).every((k) => k in want) && (['rs1', 'rs2'] as const).every((k) => Math.abs((got[k] ?? 0) - (want[k] ?? 0)) <= round);
}

export async function loadStep(c: Cluster, o: ScenarioOptions, name = 'load through the VIP'): Promise<StepResult> {
  o.say(`wrk from client to ${url} for ${o.wrkSeconds} s, then ${o.splitRequests} requests on new connections`);
  const w = await wrk(c.t, 'client', url, o.wrkSeconds);
  const split = tally(await httpGetMany(c.t, 'client', url, o.splitRequests));
  const ok = w.errors === 0 && w.requests > 0 && splitOk(split, o);
  return {
    step: name,
    expected: `no errors; split ${fmtSplit(expectedSplit(o))} (weights ${o.weights.rs1}:${o.weights.rs2})`,
    observed: `${w.requestsPerSecond.toFixed(0)} req/s, ${w.errors} errors; split ${fmtSplit(split)}`,
    ok,
    figures: { rps: w.requestsPerSecond, errors: w.errors, rs1: split.rs1 ?? 0, rs2: split.rs2 ?? 0 },
  };
}

/**
 * The stop step's client gives a request 3 s, as a browser gives a handshake more than its first SYN:
 * with 1 s, one SYN lost in the emulated guest (its retransmission is due at 1 s) counted as an error
 * of the cluster. A request still sent to the stopped nginx fails at once (refused) whatever the limit;
 * a late answer is counted and shown.
 */
const STOP_PROBE_TIMEOUT_MS = 3000;

export async function stopRealServerStep(c: Cluster, o: ScenarioOptions): Promise<StepResult> {
  const probe = startProbe(c.t, 'client', url, o.probeIntervalMs, STOP_PROBE_TIMEOUT_MS);
  await probeWarm(probe);
  const from = Date.now();
  o.say("stop rs1's nginx; the client keeps sending requests");
  await c.stopNginx('rs1');
  // Removed from the table, or weight 0 (inhibit_on_failure), on the master director. Each look is an
  // `ipvsadm -Ln` run in the guest (a second or more under emulation): the change happened after the
  // last look that still showed rs1, which is the time the verdict uses.
  let lastSeen = from;
  const gone = await until(
    'rs1 leaves director1\'s table',
    async () => {
      if (((await c.weightOf('director1', 'rs1')) ?? 0) === 0) return true;
      lastSeen = Date.now();
      return undefined;
    },
    o.detectMs + 30_000,
    100,
  ).then(
    () => ({ seen: Date.now() - from, after: lastSeen - from }),
    () => null,
  );
  await sleep(2000);
  const records = await probe.stop();
  const out = outageSince(records, from);
  const late = answersFrom(records, 'rs1', from);
  const afterDetect = gone === null ? [] : records.filter((r) => r.t >= from + gone.seen + 500);
  const errorsAfter = afterDetect.filter((r) => r.err !== undefined).length;
  const slowAfter = afterDetect.filter((r) => r.err === undefined && r.ms >= 900).length;
  const ok = gone !== null && gone.after <= o.detectMs && out.lastFailureAfter <= o.detectMs && errorsAfter === 0 && late === 0;
  return {
    step: 'stop rs1 nginx',
    expected: `rs1 out of the table within ${o.detectMs / 1000} s (the health check's window); no error after`,
    observed:
      gone === null
        ? 'rs1 never left the table'
        : `out after ${(gone.after / 1000).toFixed(1)}-${(gone.seen / 1000).toFixed(1)} s; ${out.failures} failed of ${out.requests} requests, last ${(out.lastFailureAfter / 1000).toFixed(1)} s after the stop; ${errorsAfter} after${describeErrors(afterDetect, from)}; ${slowAfter} answered in 0.9 s or more after`,
    ok,
    figures: { detectedMs: gone?.after ?? -1, failures: out.failures, lastFailureMs: out.lastFailureAfter, errorsAfter, slowAfter },
  };
}

export async function startRealServerStep(c: Cluster, o: ScenarioOptions): Promise<StepResult> {
  const from = Date.now();
  o.say("start rs1's nginx again");
  await c.startNginx('rs1');
  // As for the stop: the change happened after the last look that did not show it yet (each look is
  // an `ipvsadm -Ln` in the slow guest), which is the time the verdict uses.
  let lastMissed = from;
  const back = await until(
    'rs1 back in director1\'s table',
    async () => {
      if ((await c.weightOf('director1', 'rs1')) === o.weights.rs1) return true;
      lastMissed = Date.now();
      return undefined;
    },
    o.detectMs + 30_000,
    100,
  ).then(
    () => ({ seen: Date.now() - from, after: lastMissed - from }),
    () => null,
  );
  // The backup director must agree before the split is measured: were the VIP to move for a moment, a
  // director whose own checker has not seen rs1 back yet would send every request to rs2.
  const both =
    back === null
      ? false
      : await until('rs1 back in director2\'s table', async () => ((await c.weightOf('director2', 'rs1')) === o.weights.rs1 ? true : undefined), o.detectMs + 30_000, 100).then(
          () => true,
          () => false,
        );
  const load = back === null || !both ? null : await loadStep(c, o, 'start rs1 nginx');
  return {
    step: 'start rs1 nginx',
    expected: `rs1 back at weight ${o.weights.rs1} within ${o.detectMs / 1000} s; ${load?.expected ?? ''}`,
    observed: back === null ? 'rs1 did not come back' : !both ? 'rs1 back on director1 but not on director2' : `back after ${(back.after / 1000).toFixed(1)}-${(back.seen / 1000).toFixed(1)} s; ${load?.observed ?? ''}`,
    ok: back !== null && back.after <= o.detectMs && (load?.ok ?? false),
    figures: { backMs: back?.after ?? -1, ...(load?.figures ?? {}) },
  };
}

export async function crashMasterStep(c: Cluster, o: ScenarioOptions): Promise<StepResult> {
  const probe = startProbe(c.t, 'client', url, o.probeIntervalMs);
  await probeWarm(probe);
  o.say('crash director1: its link down, then SIGKILL of its NATS and agents');
  // The director is gone from the network when its link is down (its kernel would go on forwarding
  // without the agents): the outage counts from the last answer before then.
  const asked = Date.now();
  const from = await c.crash('director1');
  const master = await becameMaster(c, 'director2', asked);
  await sleep(2000);
  const records = await probe.stop();
  const holder = await c.vipHolder();
  const out = outageSince(records, from);
  const ok = master !== null && holder === 'director2' && out.longestGap <= o.failoverGapMs && out.lastFailureAfter <= o.failoverGapMs;
  return {
    step: 'crash director1',
    expected: `director2 takes the VIP; client outage under ${o.failoverGapMs} ms`,
    observed:
      master === null
        ? "director2's agent did not become master"
        : holder !== 'director2'
          ? `director2's agent became master, but the VIP is on ${holder ?? 'no director'}`
          : // Where a long outage comes from: the backup's own takeover, or a guest too busy to send (the probe's pauses).
            `director2 master ${master - asked} ms after the crash began (its link went down within ${from - asked} ms); ` +
            `outage ${out.longestGap} ms (answered requests sent ${out.gapFrom - asked} and ${out.gapTo - asked} ms into the crash), ${out.failures} failed of ${out.requests}; ` +
            `the probe's longest pause between sends ${longestPause(records, asked)} ms; errors ${errorsBetween(records, out.gapFrom, out.gapTo)}`,
    ok,
    figures: { takeoverMs: master === null ? -1 : master - asked, gapMs: out.longestGap, failures: out.failures, crashAt: asked },
  };
}

/** The failed requests among `records`, each as " (at 4.6 s: TIMEOUT in connect, port 40212, ...)", or "". */
function describeErrors(records: readonly ProbeRecord[], from: number): string {
  const failed = records.filter((r) => r.err !== undefined);
  if (failed.length === 0) return '';
  const one = (r: ProbeRecord) => `at ${((r.t - from) / 1000).toFixed(1)} s: ${r.err} in ${r.phase ?? '?'}, port ${r.port ?? '?'}`;
  return ` (${failed.slice(0, 5).map(one).join('; ')}${failed.length > 5 ? '; ...' : ''})`;
}

/** The probe's errors for requests sent in [from, to], counted by kind ("TIMEOUT x3, ECONNRESET x1"), or "none". */
function errorsBetween(records: readonly ProbeRecord[], from: number, to: number): string {
  const kinds = new Map<string, number>();
  for (const r of records) if (r.err !== undefined && r.t >= from && r.t <= to) kinds.set(r.err, (kinds.get(r.err) ?? 0) + 1);
  return kinds.size === 0 ? 'none' : [...kinds].map(([k, n]) => `${k} x${n}`).join(', ');
}

/**
 * When a director's vrrp-agent logged its transition to master (at or after `since`), null if not
 * within VIP_MS. Read from the agent's output, which costs the guest nothing: polling `ip addr`
 * (two processes every 50 ms) slowed the very takeover it timed in a busy guest.
 */
async function becameMaster(c: Cluster, d: 'director1' | 'director2', since: number): Promise<number | null> {
  return until(`${d} becomes master`, async () => transitionAt(c.output(d, 'vrrp-agent'), 'master', since) ?? undefined, VIP_MS, 50).catch(() => null);
}

export async function restoreMasterStep(c: Cluster, o: ScenarioOptions): Promise<StepResult> {
  o.say('restore director1: link up, NATS and its agents started again');
  const restarted = Date.now();
  await c.restore('director1');
  // The probe starts once the restarted services run: started during their start-up, its hundred
  // requests in flight and the four starting processes starve the guest until everything times out.
  const probe = startProbe(c.t, 'client', url, o.probeIntervalMs);
  await probeWarm(probe);
  const from = Date.now();
  const master = await becameMaster(c, 'director1', restarted);
  await sleep(2000);
  const out = outageSince(await probe.stop(), from);
  const holder = await c.vipHolder();
  const ok = master !== null && holder === 'director1' && out.longestGap <= o.failbackGapMs;
  // After the restart, in order: its ipvs-agent programs the emptied table, its vrrp-agent's startup hold ends, it takes the VIP.
  const table = logLineAt(c.output('director1', 'ipvs-agent'), /^kernel table updated$/, restarted);
  const hold = logLineAt(c.output('director1', 'vrrp-agent'), /^startup hold over$/, restarted);
  const since = (x: { at: number } | null) => (x === null ? 'never' : `${x.at - restarted} ms`);
  const ipvsStarted = logLineAt(c.output('director1', 'ipvs-agent'), /^started$/, restarted);
  const vrrpStarted = logLineAt(c.output('director1', 'vrrp-agent'), /^started$/, restarted);
  const instance = logLineAt(c.output('director1', 'vrrp-agent'), /^vrrp transition$/, restarted);
  const held =
    `; after the restart: agents started ${since(ipvsStarted)} (ipvs) and ${since(vrrpStarted)} (vrrp), VRRP instance up ${since(instance)}, ` +
    `IPVS table programmed ${since(table)}, startup hold over ${since(hold)} (${hold?.reason ?? '-'}), master ${master === null ? 'never' : `${master - restarted} ms`}`;
  return {
    step: 'restore director1',
    expected: `director1 takes the VIP back; client outage under ${o.failbackGapMs} ms`,
    observed:
      master === null
        ? "director1's agent did not become master again"
        : holder !== 'director1'
          ? `director1's agent became master, but the VIP is on ${holder ?? 'no director'}`
          : `VIP back on director1; outage ${out.longestGap} ms, ${out.failures} failed of ${out.requests}${held}`,
    ok,
    figures: {
      gapMs: out.longestGap,
      failures: out.failures,
      tableMs: table === null ? -1 : table.at - restarted,
      holdMs: hold === null ? -1 : hold.at - restarted,
      masterMs: master === null ? -1 : master - restarted,
    },
  };
}

/** The first JSON log line at or after `since` whose msg matches, with its time and reason; null when none does. */
function logLineAt(log: string, msg: RegExp, since: number): { at: number; reason: string } | null {
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const l = JSON.parse(line) as { msg?: unknown; time?: unknown; reason?: unknown };
      const at = typeof l.time === 'string' ? Date.parse(l.time) : NaN;
      if (typeof l.msg === 'string' && msg.test(l.msg) && at >= since) return { at, reason: typeof l.reason === 'string' ? l.reason : l.msg };
    } catch {
      // not a log line
    }
  }
  return null;
}

/** Runs the steps in order; a step that throws is a failed step, and the next ones still run. */
export async function runScenario(c: Cluster, o: ScenarioOptions): Promise<StepResult[]> {
  const steps: [string, () => Promise<StepResult>][] = [
    ['load through the VIP', () => loadStep(c, o)],
    ['stop rs1 nginx', () => stopRealServerStep(c, o)],
    ['start rs1 nginx', () => startRealServerStep(c, o)],
    ['crash director1', () => crashMasterStep(c, o)],
    ['restore director1', () => restoreMasterStep(c, o)],
  ];
  const results: StepResult[] = [];
  for (const [name, run] of steps) {
    o.say(`--- ${name}`);
    const r = await run().catch((err: unknown) => ({ step: name, expected: '', observed: `failed: ${(err as Error).message.split('\n')[0]}`, ok: false, figures: {} }));
    o.say(`${r.ok ? 'ok  ' : 'FAIL'} ${r.observed}`);
    results.push(r);
  }
  return results;
}

export function summaryTable(results: readonly StepResult[]): string {
  const rows = [['step', 'expected', 'observed', 'verdict'], ...results.map((r) => [r.step, r.expected, r.observed, r.ok ? 'ok' : 'FAIL'])];
  const widths = rows[0]!.map((_, i) => Math.min(70, Math.max(...rows.map((r) => r[i]!.length))));
  return rows.map((r) => `| ${r.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`).join('\n');
}
