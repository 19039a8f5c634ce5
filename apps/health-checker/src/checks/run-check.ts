import { dnsCheck, type DnsCheckSpec } from './dns.js';
import { fileCheck, type FileCheckSpec } from './file.js';
import { httpCheck, type HttpCheckSpec } from './http.js';
import { icmpCheck, type IcmpCheckSpec } from './icmp.js';
import { scriptCheck, type ScriptCheckSpec } from './script.js';
import { smtpCheck, type SmtpCheckSpec } from './smtp.js';
import { tcpCheck, type TcpCheckSpec } from './tcp.js';
import type { CheckResult, Endpoint, ProbeContext } from './types.js';
import { udpCheck, type UdpCheckSpec } from './udp.js';

/** One check of any type, tagged as keepalived names them. */
export type CheckSpec =
  | ({ type: 'tcp' } & TcpCheckSpec)
  | ({ type: 'http' } & HttpCheckSpec)
  | ({ type: 'smtp' } & SmtpCheckSpec)
  | ({ type: 'dns' } & DnsCheckSpec)
  | ({ type: 'udp' } & UdpCheckSpec)
  | ({ type: 'icmp' } & IcmpCheckSpec)
  | ({ type: 'script' } & ScriptCheckSpec)
  | ({ type: 'file' } & FileCheckSpec);

/** Runs one probe of `spec` against `target` (script and file checks ignore the target). */
export function runCheck(target: Endpoint, spec: CheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  switch (spec.type) {
    case 'tcp':
      return tcpCheck(target, spec, ctx);
    case 'http':
      return httpCheck(target, spec, ctx);
    case 'smtp':
      return smtpCheck(target, spec, ctx);
    case 'dns':
      return dnsCheck(target, spec, ctx);
    case 'udp':
      return udpCheck(target, spec, ctx);
    case 'icmp':
      return icmpCheck(target, spec, ctx);
    case 'script':
      return scriptCheck(spec, ctx);
    case 'file':
      return fileCheck(spec, ctx);
  }
}

/**
 * One round of a check with several probes (an HTTP check's URLs): the probes run in order and the
 * round stops at the first failure, as keepalived walks a check's URLs. The latency is the round's
 * total; a success carries the last probe's weight fields.
 */
export async function runRound(
  target: Endpoint,
  probes: readonly CheckSpec[],
  ctx?: ProbeContext,
  run: (target: Endpoint, spec: CheckSpec, ctx?: ProbeContext) => Promise<CheckResult> = runCheck,
): Promise<CheckResult> {
  let total = 0;
  let last: CheckResult = { ok: false, reason: 'error', message: 'the check has no probe', latencyMs: 0 };
  for (const spec of probes) {
    last = await run(target, spec, ctx);
    total += last.latencyMs;
    if (!last.ok) break;
  }
  return { ...last, latencyMs: total };
}
