/** Messages between the benchmark's orchestrator and its child processes. */

/** Wall-clock ms with sub-ms precision, comparable across processes on one host. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

export type ListenerRequest = { cmd: 'kill'; port: number };
export type ListenerReply = { cmd: 'ready'; listening: number } | { cmd: 'killed'; port: number; at: number };

export type CheckerRequest = { cmd: 'window-start' } | { cmd: 'window-end' };
export interface CheckerWindow {
  checks: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  maxWaiting: number;
}
export type CheckerReply =
  | { cmd: 'ready'; servers: number }
  | { cmd: 'down'; port: number; at: number; reason: string }
  | ({ cmd: 'window' } & CheckerWindow);

/** Sends over the IPC channel of a forked child. */
export function send(msg: ListenerReply | CheckerReply): void {
  // The orchestrator may already have let go of the channel (the run is over): nothing to tell then.
  if (process.connected) process.send?.(msg, undefined, {}, () => undefined);
}

/** The nearest-rank percentile of the first `n` values of `values` (sorted in place). */
export function percentile(values: Float64Array, n: number, p: number): number {
  if (n === 0) return Number.NaN;
  const sorted = values.subarray(0, n).sort();
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))] as number;
}
