/** Why a probe failed; one word a dashboard can group by, with the details in `message`. */
export type FailReason =
  | 'refused' // TCP RST or ICMP port unreachable
  | 'unreachable' // no route, host or network unreachable
  | 'reset' // the peer reset an established connection
  | 'timeout' // no complete answer within the probe's deadline
  | 'tls' // handshake failed or the certificate was refused
  | 'status' // HTTP status or SMTP reply code not the expected one
  | 'digest' // MD5 of the HTTP body differs
  | 'regex' // body did (not) match the regular expression
  | 'protocol' // the peer's reply is not what the protocol says
  | 'too-large' // the reply exceeded the configured cap
  | 'rcode' // DNS answered with an error code
  | 'no-answer' // DNS answered with no record
  | 'reply' // UDP reply did not match the expected one
  | 'exit-code' // script exited with a failure code
  | 'killed' // script overran its timeout (or died from a signal)
  | 'file' // FILE_CHECK value means down, or the file is unreadable
  | 'aborted' // the caller cancelled the probe (shutdown, config change)
  | 'error'; // local failure: bad bind address, spawn error, ...

export type CheckResult =
  | {
      ok: true;
      latencyMs: number;
      /** Absolute weight asked for by the probe (MISC_CHECK misc_dynamic: exit code - 2). */
      weight?: number;
      /** Amount to add to the configured weight (FILE_CHECK: value x weight multiplier). */
      weightDelta?: number;
    }
  | { ok: false; reason: FailReason; message: string; latencyMs: number };

export type CheckFailure = Extract<CheckResult, { ok: false }>;

/** Where a probe goes: the real server, or keepalived's connect_ip/connect_port. */
export interface Endpoint {
  address: string;
  port: number;
}

/** keepalived's bindto / bind_port: the source of the probe's packets. */
export interface SourceBinding {
  address?: string;
  port?: number;
}

/** What every network probe accepts. */
export interface NetworkProbeSpec {
  /**
   * keepalived's connect_timeout, in ms. Also the deadline for the whole probe, so a peer
   * that trickles bytes cannot hold a probe longer than this.
   */
  timeoutMs: number;
  source?: SourceBinding;
}

export interface ProbeContext {
  /** Cancels the probe; it then resolves with reason 'aborted'. */
  signal?: AbortSignal;
  /** Monotonic clock in ms (injected in tests); defaults to performance.now. */
  now?: () => number;
}

/** A single probe: resolves with the outcome and never rejects. */
export type Probe<Spec> = (target: Endpoint, spec: Spec, ctx?: ProbeContext) => Promise<CheckResult>;
