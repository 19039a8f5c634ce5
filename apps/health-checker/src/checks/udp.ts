import { randomBytes } from 'node:crypto';
import { runAttempt } from './attempt.js';
import type { CheckResult, Endpoint, NetworkProbeSpec, ProbeContext } from './types.js';
import { closeQuietly, openDatagram } from './udp-socket.js';

export interface UdpCheckSpec extends NetworkProbeSpec {
  /** Datagram to send, as hex (keepalived's payload); default: 8 random bytes. */
  payloadHex?: string;
  /** Up only on a reply (keepalived's require_reply); otherwise silence until the deadline is up too. */
  requireReply?: boolean;
  /** The reply must start with these bytes (hex). */
  replyHex?: string;
  minReplyLength?: number;
  maxReplyLength?: number;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * keepalived's UDP_CHECK. Without `requireReply` the only failure is an ICMP error (port or host
 * unreachable), which Linux reports on a connected socket; a reply ends the wait early.
 */
export function udpCheck(target: Endpoint, spec: UdpCheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  return runAttempt(ctx, spec.timeoutMs, (attempt) => {
    const payload = spec.payloadHex === undefined ? randomBytes(8) : hexField(spec.payloadHex, 'payload');
    const expected = spec.replyHex === undefined ? undefined : hexField(spec.replyHex, 'reply');
    const needReply = spec.requireReply === true || expected !== undefined;
    if (!needReply) attempt.onDeadline = () => attempt.succeed();
    const socket = openDatagram(target, spec.source, attempt, (s) => {
      attempt.phase = needReply ? 'waiting for a reply' : 'waiting for an ICMP error';
      s.send(payload);
    });
    socket.on('message', (msg: Buffer) => {
      if (spec.minReplyLength !== undefined && msg.length < spec.minReplyLength) {
        return attempt.fail('reply', `reply of ${msg.length} bytes, expected at least ${spec.minReplyLength}`);
      }
      if (spec.maxReplyLength !== undefined && msg.length > spec.maxReplyLength) {
        return attempt.fail('reply', `reply of ${msg.length} bytes, expected at most ${spec.maxReplyLength}`);
      }
      if (expected && !msg.subarray(0, expected.length).equals(expected)) {
        return attempt.fail('reply', `reply starts ${msg.subarray(0, 16).toString('hex')}, expected ${expected.subarray(0, 16).toString('hex')}`);
      }
      attempt.succeed();
    });
    return () => closeQuietly(socket);
  });
}

function hexField(value: string, field: string): Buffer {
  if (!HEX.test(value)) throw new Error(`${field} ${JSON.stringify(value.slice(0, 40))} is not an even-length hex string`);
  return Buffer.from(value, 'hex');
}
