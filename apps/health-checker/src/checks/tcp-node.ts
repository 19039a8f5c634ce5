import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { failedNow, formatPeer, socketFailure } from './attempt.js';
import { assertNumeric } from './socket.js';
import type { TcpCheckSpec } from './tcp.js';
import type { CheckResult, Endpoint, FailReason, ProbeContext } from './types.js';

/**
 * keepalived's TCP_CHECK on a Node socket: up when the three-way handshake completes. The fallback
 * where the native prober cannot load (see tcp.ts); it cannot set a firewall mark.
 *
 * It does what runAttempt does (one deadline,
 * the abort signal, cleanup on every path, the verdict on a deadline one loop turn late) without
 * a closure per probe: handlers are module functions that find their probe on the socket, the
 * deadline timer gets the probe as its argument, and the probe is itself the abort listener.
 */
export function nodeTcpCheck(target: Endpoint, spec: TcpCheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  if (spec.mark !== undefined) return failedNow('error', `fwmark ${spec.mark}: Node sockets cannot set SO_MARK and the native prober is not available`);
  return new Promise<CheckResult>((resolve) => new TcpProbe(target, spec, ctx, resolve).start());
}

const PROBE = Symbol('tcp probe');
type ProbeSocket = Socket & { [PROBE]?: TcpProbe };

class TcpProbe {
  private settled = false;
  private socket: ProbeSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly started: number;

  constructor(
    private readonly target: Endpoint,
    private readonly spec: TcpCheckSpec,
    private readonly ctx: ProbeContext | undefined,
    private readonly resolve: (r: CheckResult) => void,
  ) {
    this.now = ctx?.now ?? performanceNow;
    this.started = this.now();
  }

  start(): void {
    this.timer = setTimeout(onTimer, this.spec.timeoutMs, this);
    const signal = this.ctx?.signal;
    if (signal?.aborted) return this.fail('aborted', 'cancelled before it started');
    signal?.addEventListener('abort', this, { once: true });
    try {
      const { target, spec } = this;
      assertNumeric(target.address, 'target address');
      const source = spec.source;
      if (source?.address !== undefined) assertNumeric(source.address, 'source address');
      const socket: ProbeSocket = netConnect(
        source === undefined
          ? { host: target.address, port: target.port }
          : {
              host: target.address,
              port: target.port,
              ...(source.address !== undefined ? { localAddress: source.address } : {}),
              ...(source.port ? { localPort: source.port } : {}),
            },
      );
      socket[PROBE] = this;
      // Stays attached after the verdict: a late error must not become an unhandled 'error' event.
      socket.on('error', onSocketError);
      socket.once('connect', onSocketConnect);
      this.socket = socket;
    } catch (err) {
      this.fail('error', err instanceof Error ? err.message : String(err));
    }
  }

  /** The abort signal's listener (an EventListener object, so no closure is needed). */
  handleEvent(): void {
    this.fail('aborted', 'cancelled while connecting');
  }

  deadline(): void {
    this.fail('timeout', `no answer within ${this.spec.timeoutMs} ms while connecting`);
  }

  socketError(err: unknown): void {
    const [reason, message] = socketFailure(err, formatPeer(this.target.address, this.target.port), 'connecting');
    this.fail(reason, message);
  }

  succeed(): void {
    this.settle({ ok: true, latencyMs: this.elapsed() });
  }

  fail(reason: FailReason, message: string): void {
    this.settle({ ok: false, reason, message, latencyMs: this.elapsed() });
  }

  private elapsed(): number {
    return Math.max(0, Math.round((this.now() - this.started) * 1000) / 1000);
  }

  private settle(result: CheckResult): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.ctx?.signal?.removeEventListener('abort', this);
    const socket = this.socket;
    // A reset rather than a FIN leaves no TIME_WAIT behind on this host (HAProxy does the same),
    // which matters at thousands of checks per second.
    if (socket !== null && !socket.destroyed) {
      if (socket.connecting) socket.destroy();
      else socket.resetAndDestroy();
    }
    this.resolve(result);
  }
}

function performanceNow(): number {
  return performance.now();
}

function onTimer(probe: TcpProbe): void {
  // The verdict waits one loop turn, as in runAttempt: a handshake due together with the deadline wins.
  setImmediate(onDeadline, probe);
}

function onDeadline(probe: TcpProbe): void {
  probe.deadline();
}

function onSocketConnect(this: ProbeSocket): void {
  this[PROBE]?.succeed();
}

function onSocketError(this: ProbeSocket, err: Error): void {
  this[PROBE]?.socketError(err);
}
