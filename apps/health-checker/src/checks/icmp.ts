import { ProbeError, openIcmpPinger } from '@fulcrum/netlink';
import type { IcmpPinger, PingOutcome, PreparedPing } from '@fulcrum/netlink';
import { failedNow } from './attempt.js';
import { pingIcmpCheck } from './icmp-ping.js';
import type { CheckResult, NetworkProbeSpec, ProbeContext } from './types.js';

export interface IcmpCheckSpec extends NetworkProbeSpec {
  /** keepalived's fwmark: SO_MARK on the echo requests. */
  mark?: number;
}

/**
 * keepalived's PING_CHECK: one ICMP (or ICMPv6) echo request, up on the reply. Sent on the kernel
 * library's shared raw sockets (no process per probe); a process without CAP_NET_RAW falls back to
 * a `ping -c 1` child.
 */
export function icmpCheck(target: { address: string }, spec: IcmpCheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  const p = pinger();
  if (p === null || rawRefused) return pingIcmpCheck(target, spec, ctx);
  return nativeIcmpCheck(p, target, spec, ctx, () => {
    rawRefused = true;
    return pingIcmpCheck(target, spec, ctx);
  });
}

let opened: IcmpPinger | null | undefined;
/** Set once the kernel refused a raw socket (EPERM): every later probe goes to the ping command. */
let rawRefused = false;

function pinger(): IcmpPinger | null {
  if (opened !== undefined) return opened;
  try {
    opened = openIcmpPinger();
  } catch {
    opened = null;
  }
  return opened;
}

const prepared = new WeakMap<IcmpCheckSpec, { address: string; ping: PreparedPing }>();

/**
 * An ICMP check on a given pinger (specs open one in a namespace). `refused` runs instead when the
 * kernel will not give this process a raw socket; without it that is a failed probe.
 */
export function nativeIcmpCheck(
  p: IcmpPinger,
  target: { address: string },
  spec: IcmpCheckSpec,
  ctx?: ProbeContext,
  refused?: () => Promise<CheckResult>,
): Promise<CheckResult> {
  let ping: PreparedPing;
  const hit = prepared.get(spec);
  if (hit !== undefined && hit.address === target.address) {
    ping = hit.ping;
  } else {
    try {
      ping = p.prepare({
        address: target.address,
        timeoutMs: spec.timeoutMs,
        ...(spec.source?.address !== undefined ? { source: spec.source.address } : {}),
        ...(spec.mark !== undefined ? { mark: spec.mark } : {}),
      });
    } catch (err) {
      if (!(err instanceof ProbeError)) throw err;
      if (refused !== undefined && (err.errno === 'EPERM' || err.errno === 'EACCES') && spec.mark === undefined) return refused();
      return failedNow('error', err.message);
    }
    prepared.set(spec, { address: target.address, ping });
  }
  return new Promise<CheckResult>((resolve) => p.ping(ping, (o) => resolve(o.ok ? o : toFailure(o)), ctx?.signal));
}

function toFailure(o: Extract<PingOutcome, { ok: false }>): CheckResult {
  const reason = o.failure === 'deadline' ? 'timeout' : o.failure === 'aborted' ? 'aborted' : o.failure === 'unreachable' ? 'unreachable' : 'error';
  return { ok: false, reason, message: o.message, latencyMs: o.latencyMs };
}
