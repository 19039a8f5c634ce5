import { ProbeError, openTcpProber } from '@fulcrum/netlink';
import type { PreparedTcpProbe, TcpProbeHandle, TcpProbeOutcome, TcpProber } from '@fulcrum/netlink';
import { failedNow, formatPeer, socketFailure } from './attempt.js';
import { nodeTcpCheck } from './tcp-node.js';
import type { CheckResult, Endpoint, NetworkProbeSpec, ProbeContext } from './types.js';

export interface TcpCheckSpec extends NetworkProbeSpec {
  /** keepalived's fwmark: SO_MARK on the probe's packets (native prober only). */
  mark?: number;
}

/**
 * keepalived's TCP_CHECK: up when the three-way handshake completes.
 *
 * The hot path of ten thousand checks a second. It runs on the kernel library's native prober (a
 * non-blocking socket per probe, one epoll_wait for every handshake in flight, a reset to close),
 * which costs a fraction of a Node socket; where that cannot load it falls back to net.Socket.
 */
export function tcpCheck(target: Endpoint, spec: TcpCheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  const p = prober();
  return p === null ? nodeTcpCheck(target, spec, ctx) : nativeTcpCheck(p, target, spec, ctx);
}

/** Which implementation tcpCheck uses in this process: 'native' unless the prober failed to open. */
export function tcpCheckImplementation(): 'native' | 'node' {
  return prober() === null ? 'node' : 'native';
}

let opened: TcpProber | null | undefined;
let openError: unknown;

/**
 * Opened on the first check (nothing touches the kernel at import); null when it cannot be, or when
 * FULCRUM_HEALTH_TCP=node asks for the net.Socket path (a way back, and the benchmark's comparison).
 */
function prober(): TcpProber | null {
  if (opened !== undefined) return opened;
  if (process.env.FULCRUM_HEALTH_TCP === 'node') {
    openError = new Error('FULCRUM_HEALTH_TCP=node');
    return (opened = null);
  }
  try {
    opened = openTcpProber();
  } catch (err) {
    openError = err;
    opened = null;
  }
  return opened;
}

/** Why the native prober is not used, for the service's startup log; undefined when it is. */
export function nativeTcpUnavailable(): string | undefined {
  if (prober() !== null) return undefined;
  return openError instanceof Error ? openError.message : String(openError);
}

/** A check's target and spec are fixed for its life: prepare them once (addresses parsed, sockaddrs built). */
const prepared = new WeakMap<TcpCheckSpec, { target: Endpoint; probe: PreparedTcpProbe }>();

function prepare(p: TcpProber, target: Endpoint, spec: TcpCheckSpec): PreparedTcpProbe {
  const hit = prepared.get(spec);
  if (hit !== undefined && hit.target === target) return hit.probe;
  const probe = p.prepare({
    address: target.address,
    port: target.port,
    timeoutMs: spec.timeoutMs,
    ...(spec.source !== undefined ? { source: spec.source } : {}),
    ...(spec.mark !== undefined ? { mark: spec.mark } : {}),
  });
  prepared.set(spec, { target, probe });
  return probe;
}

/**
 * The probes in flight under one abort signal. A check keeps its signal for its whole life, so one
 * listener per signal replaces an add/remove per probe (which cost about a tenth of the checker's CPU).
 */
class SignalWatch {
  readonly inFlight = new Set<TcpProbeHandle>();
  constructor(private readonly p: TcpProber) {}
  handleEvent(): void {
    for (const h of this.inFlight) this.p.cancel(h, 'cancelled while connecting');
    this.inFlight.clear();
  }
}
const watches = new WeakMap<AbortSignal, SignalWatch>();

function watchOf(p: TcpProber, signal: AbortSignal): SignalWatch {
  let w = watches.get(signal);
  if (w === undefined) {
    w = new SignalWatch(p);
    watches.set(signal, w);
    signal.addEventListener('abort', w, { once: true });
  }
  return w;
}

function nativeTcpCheck(p: TcpProber, target: Endpoint, spec: TcpCheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  let probe: PreparedTcpProbe;
  try {
    probe = prepare(p, target, spec);
  } catch (err) {
    if (err instanceof ProbeError) return failedNow('error', err.message);
    throw err;
  }
  const signal = ctx?.signal;
  if (signal === undefined) return new Promise<CheckResult>((resolve) => p.probe(probe, (o) => resolve(o.ok ? o : toFailure(o, target))));
  if (signal.aborted) return failedNow('aborted', 'cancelled before it started');
  const watch = watchOf(p, signal);
  return new Promise<CheckResult>((resolve) => {
    let handle: TcpProbeHandle | null = null;
    handle = p.probe(probe, (o) => {
      if (handle !== null) watch.inFlight.delete(handle);
      resolve(o.ok ? o : toFailure(o, target));
    });
    if (handle !== null && !handle.settled) watch.inFlight.add(handle);
  });
}

function toFailure(o: Extract<TcpProbeOutcome, { ok: false }>, target: Endpoint): CheckResult {
  switch (o.failure) {
    case 'deadline':
      return { ok: false, reason: 'timeout', message: o.message, latencyMs: o.latencyMs };
    case 'aborted':
      return { ok: false, reason: 'aborted', message: o.message, latencyMs: o.latencyMs };
    case 'socket': {
      const [reason, message] = socketFailure({ code: o.errno, message: o.message }, formatPeer(target.address, target.port), 'connecting');
      return { ok: false, reason, message, latencyMs: o.latencyMs };
    }
  }
}
