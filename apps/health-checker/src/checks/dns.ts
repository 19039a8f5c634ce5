import { randomInt } from 'node:crypto';
import { runAttempt } from './attempt.js';
import type { DnsType } from './dns-packet.js';
import { checkReply, encodeQuery, rcodeName } from './dns-packet.js';
import type { CheckResult, Endpoint, NetworkProbeSpec, ProbeContext } from './types.js';
import { closeQuietly, openDatagram } from './udp-socket.js';

export interface DnsCheckSpec extends NetworkProbeSpec {
  /** keepalived's `type`; default SOA. */
  queryType?: DnsType;
  /** keepalived's `name`; default the root ".". */
  queryName?: string;
}

/** keepalived's DNS_CHECK over UDP: NOERROR with at least one answer record. */
export function dnsCheck(target: Endpoint, spec: DnsCheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  return runAttempt(ctx, spec.timeoutMs, (attempt) => {
    const type = spec.queryType ?? 'SOA';
    const name = spec.queryName ?? '.';
    const query = encodeQuery(randomInt(0x10000), name, type);
    const socket = openDatagram(target, spec.source, attempt, (s) => {
      attempt.phase = `waiting for the answer to ${type} ${name}`;
      s.send(query);
    });
    socket.on('message', (msg: Buffer) => {
      const v = checkReply(msg, query);
      switch (v.kind) {
        case 'ignore':
          return;
        case 'malformed':
          return attempt.fail('protocol', `DNS reply to ${type} ${name}: ${v.why}`);
        case 'rcode':
          return attempt.fail('rcode', `DNS ${rcodeName(v.rcode)} for ${type} ${name}`);
        case 'answer':
          if (v.count === 0) return attempt.fail('no-answer', `DNS NOERROR but no answer for ${type} ${name}`);
          return attempt.succeed();
      }
    });
    return () => closeQuietly(socket);
  });
}
