import { runAttempt } from './attempt.js';
import { openStream } from './socket.js';
import type { CheckResult, Endpoint, NetworkProbeSpec, ProbeContext } from './types.js';

export type TcpCheckSpec = NetworkProbeSpec;

/** keepalived's TCP_CHECK: up when the three-way handshake completes. */
export function tcpCheck(target: Endpoint, spec: TcpCheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  return runAttempt(ctx, spec.timeoutMs, (attempt) => {
    const socket = openStream(target, spec.source, attempt);
    socket.once('connect', () => attempt.succeed());
    // A reset rather than a FIN leaves no TIME_WAIT behind on this host (HAProxy does the same),
    // which matters at thousands of checks per second.
    return () => {
      if (socket.destroyed) return;
      if (socket.connecting) socket.destroy();
      else socket.resetAndDestroy();
    };
  });
}
