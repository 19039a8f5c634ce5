import { fileURLToPath } from 'node:url';
import type { LabProcess, Topology } from '@fulcrum/lab';

// Measurements from the client's side: a probe process sends one request every few ms on a new
// connection and prints a record per request; the figures below are computed from those records.

const probeScript = fileURLToPath(new URL('./probe.mjs', import.meta.url));

export interface ProbeRecord {
  /** Start of the request, ms since the epoch (the guest's one clock). */
  t: number;
  ms: number;
  /** The client's port, when known. */
  port?: number;
  body?: string;
  err?: string;
  /** With an error: whether the handshake had completed ('response') or not ('connect'). */
  phase?: 'connect' | 'response';
}

export function parseProbe(output: string): ProbeRecord[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ProbeRecord);
}

export interface Probe {
  readonly process: LabProcess;
  /** Stops the probe and returns every record. */
  stop(): Promise<ProbeRecord[]>;
  records(): ProbeRecord[];
}

export function startProbe(t: Topology, from: string, url: string, intervalMs: number, timeoutMs = 1000): Probe {
  // The seeds' client is a machine of its own; here it shares the guest's CPUs with the cluster, and a
  // starved probe would count its own stall as the cluster's outage.
  const p = t.spawn(from, ['nice', '-n', '-10', process.execPath, probeScript, url, String(intervalMs), '3600000', String(timeoutMs)], { name: 'probe' });
  return {
    process: p,
    records: () => parseProbe(p.output()),
    async stop() {
      await p.stop('SIGTERM', 5000);
      return parseProbe(p.output());
    },
  };
}

/** Waits until the probe has answered `n` requests (it starts slowly in the guest). */
export async function probeWarm(p: Probe, n = 3, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (p.records().length < n) {
    if (!p.process.running) throw new Error(`the probe exited: ${p.process.output().slice(-500)}`);
    if (Date.now() > deadline) throw new Error(`the probe made no ${n} requests in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Outage {
  /** Failed requests started at or after `from`. */
  failures: number;
  /** ms from `from` to the sending of the last failed request (0: none failed): a request sent into the outage fails a timeout later. */
  lastFailureAfter: number;
  /**
   * Longest time between the sending of two requests that were answered, around `from`, in ms: the client's
   * outage. By send times, as the VRRP failover bench counts it: an answered request shows the path worked
   * when it was sent, and the guest's slow answers then do not add to the outage.
   */
  longestGap: number;
  /** When (ms since the epoch) the longest gap began and ended: the sending of its two answered requests; 0 when there was none. */
  gapFrom: number;
  gapTo: number;
  /** Answers by body after `from`. */
  split: Record<string, number>;
  requests: number;
}

/** What the client saw from `from` on. */
export function outageSince(records: readonly ProbeRecord[], from: number): Outage {
  const after = records.filter((r) => r.t >= from);
  const failed = after.filter((r) => r.err !== undefined);
  // The probe prints a record when its request completes: a slow answer comes after later, faster
  // ones. Gaps are between consecutive sends, so the answered requests go in the order they were sent.
  const ok = records.filter((r) => r.err === undefined).sort((a, b) => a.t - b.t);
  let longestGap = 0;
  let gapFrom = 0;
  let gapTo = 0;
  let prev = ok.filter((r) => r.t < from).at(-1);
  for (const r of ok.filter((x) => x.t >= from)) {
    if (prev && r.t - prev.t > longestGap) [longestGap, gapFrom, gapTo] = [r.t - prev.t, prev.t, r.t];
    prev = r;
  }
  const split: Record<string, number> = {};
  for (const r of after) if (r.body !== undefined) split[r.body] = (split[r.body] ?? 0) + 1;
  const last = failed.at(-1);
  return { failures: failed.length, lastFailureAfter: last ? last.t - from : 0, longestGap, gapFrom, gapTo, split, requests: after.length };
}

/** The longest time between two requests the probe sent from `since` on: a starved guest pauses the probe too. */
export function longestPause(records: readonly ProbeRecord[], since: number): number {
  const sent = records.map((r) => r.t).filter((t) => t >= since).sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < sent.length; i += 1) longest = Math.max(longest, (sent[i] ?? 0) - (sent[i - 1] ?? 0));
  return longest;
}

/** When (ms since the epoch) a vrrp-agent's log first shows a transition to `to` at or after `since`; null when it does not. */
export function transitionAt(log: string, to: string, since: number): number | null {
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const l = JSON.parse(line) as { msg?: unknown; to?: unknown; time?: unknown };
      const at = typeof l.time === 'string' ? Date.parse(l.time) : typeof l.time === 'number' ? l.time : NaN;
      if (l.msg === 'vrrp transition' && l.to === to && at >= since) return at;
    } catch {
      // not a log line
    }
  }
  return null;
}

/** Answers from `who` started after `from`: a real server that should get nothing. */
export const answersFrom = (records: readonly ProbeRecord[], who: string, from: number) => records.filter((r) => r.t >= from && r.body === who).length;

export interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  /** Socket errors and non-2xx answers together. */
  errors: number;
}

/** Parses wrk's summary. */
export function parseWrk(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const total = /(\d+) requests in/.exec(text);
  if (!rps || !total) throw new Error(`wrk printed no summary:\n${text}`);
  let errors = 0;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (sock) errors += sock.slice(1).reduce((s, n) => s + Number(n), 0);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (non2xx) errors += Number(non2xx[1]);
  return { requestsPerSecond: Number(rps[1]), requests: Number(total[1]), errors };
}

/** A bounded wrk run from a node: one thread, `connections` connections, `seconds` long. */
export async function wrk(t: Topology, from: string, url: string, seconds: number, connections = 4): Promise<WrkResult> {
  const { stdout } = await t.exec(from, ['wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '2s', url], { timeoutMs: (seconds + 60) * 1000 });
  return parseWrk(stdout);
}
