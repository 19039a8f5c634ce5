import { isIP } from 'node:net';
import type { CheckResult, FailReason, ProbeContext } from './types.js';

/** The handle a probe body uses to settle its attempt exactly once. */
export interface Attempt {
  /** What the probe is doing, for the timeout message ("reading the response header"). */
  phase: string;
  readonly settled: boolean;
  /** Replaces the default 'timeout' failure at the deadline (UDP: silence can mean up). */
  onDeadline?: () => void;
  succeed(extra?: { weight?: number; weightDelta?: number }): void;
  fail(reason: FailReason, message: string): void;
}

/**
 * Runs one probe body with a deadline and the caller's abort signal. The body returns its
 * cleanup (destroy the socket, kill the child), which runs once on every path before the
 * promise resolves. A body that throws synchronously fails the attempt with 'error'.
 */
export function runAttempt(
  ctx: ProbeContext | undefined,
  timeoutMs: number,
  body: (attempt: Attempt) => (() => void) | void,
): Promise<CheckResult> {
  const now = ctx?.now ?? (() => performance.now());
  const signal = ctx?.signal;
  const started = now();
  const elapsed = (): number => Math.max(0, Math.round((now() - started) * 1000) / 1000);

  return new Promise<CheckResult>((resolve) => {
    let settled = false;
    let cleanup: (() => void) | void;

    const settle = (result: CheckResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      runCleanup();
      resolve(result);
    };
    const runCleanup = (): void => {
      const fn = cleanup;
      cleanup = undefined;
      try {
        fn?.();
      } catch {
        // Cleanup only releases resources; the outcome is already decided.
      }
    };
    const attempt: Attempt = {
      phase: 'connecting',
      get settled() {
        return settled;
      },
      succeed: (extra) => settle({ ok: true, latencyMs: elapsed(), ...extra }),
      fail: (reason, message) => settle({ ok: false, reason, message, latencyMs: elapsed() }),
    };
    function onAbort(): void {
      attempt.fail('aborted', `cancelled while ${attempt.phase}`);
    }

    const onDeadline = (): void => {
      if (settled) return;
      if (attempt.onDeadline) attempt.onDeadline();
      else attempt.fail('timeout', `no answer within ${timeoutMs} ms while ${attempt.phase}`);
    };
    // Armed before anything can settle, so settle() always has a timer to clear. The verdict waits
    // one turn of the event loop: on a busy loop the deadline and the answer can be due together,
    // and timers run before I/O callbacks, so an answer that came in time would count as a timeout.
    const timer = setTimeout(() => setImmediate(onDeadline), timeoutMs);
    if (signal?.aborted) return attempt.fail('aborted', 'cancelled before it started');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      cleanup = body(attempt);
      // The body may have settled before it returned its cleanup.
      if (settled) runCleanup();
    } catch (err) {
      attempt.fail('error', err instanceof Error ? err.message : String(err));
    }
  });
}

/** Maps a socket error to a failure reason and a sentence naming the peer. */
export function socketFailure(err: unknown, peer: string, phase: string): [FailReason, string] {
  const e = err as NodeJS.ErrnoException | undefined;
  const code = e?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return ['refused', `connection refused by ${peer}`];
    case 'ECONNRESET':
    case 'EPIPE':
      return ['reset', `${peer} reset the connection while ${phase}`];
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return ['unreachable', `${peer} unreachable (${code})`];
    case 'ETIMEDOUT':
      return ['timeout', `${peer} timed out while ${phase}`];
    case 'EADDRINUSE':
    case 'EADDRNOTAVAIL':
    case 'EINVAL':
      return ['error', `cannot use the source address (${code}: ${e?.message})`];
    default:
      if (isTlsError(code)) return ['tls', `TLS with ${peer} failed: ${e?.message} (${code})`];
      return ['error', `${peer}: ${e?.message ?? String(err)}${code ? ` (${code})` : ''}`];
  }
}

function isTlsError(code: string): boolean {
  return (
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    code.includes('CERT') ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
  );
}

/** `host:port`, with brackets for IPv6 literals. */
export function formatPeer(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** An already-settled failure, for specs refused before any I/O. */
export function failedNow(reason: FailReason, message: string): Promise<CheckResult> {
  return Promise.resolve({ ok: false, reason, message, latencyMs: 0 });
}
