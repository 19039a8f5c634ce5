import { randomBytes } from 'node:crypto';
import { runAttempt } from './attempt.js';
import type { CheckResult, Endpoint, NetworkProbeSpec, ProbeContext } from './types.js';
import { closeQuietly, openDatagram } from './udp-socket.js';

export interface UdpCheckSpec extends NetworkProbeSpec {
  /** Datagram to send, as hex (keepalived's payload, spaces allowed); default: 8 random bytes. */
  payloadHex?: string;
  /** Up only on a reply (keepalived's require_reply); otherwise silence until the deadline is up too. */
  requireReply?: boolean;
  /** The reply must start with these bytes: hex digits, 'x' for any nibble, spaces ignored. */
  replyPattern?: string;
  /** Checked only when a reply is required. */
  minReplyLength?: number;
  maxReplyLength?: number;
}

/**
 * keepalived's UDP_CHECK. Without `requireReply` the only failure is an ICMP error (port or host
 * unreachable), which Linux reports on a connected socket; a reply ends the wait early.
 */
export function udpCheck(target: Endpoint, spec: UdpCheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  return runAttempt(ctx, spec.timeoutMs, (attempt) => {
    const payload = spec.payloadHex === undefined ? randomBytes(8) : hexBytes(spec.payloadHex);
    const pattern = spec.replyPattern === undefined ? undefined : replyPattern(spec.replyPattern);
    const needReply = spec.requireReply === true || pattern !== undefined;
    if (!needReply) attempt.onDeadline = () => attempt.succeed();
    const socket = openDatagram(target, spec.source, attempt, (s) => {
      attempt.phase = needReply ? 'waiting for a reply' : 'waiting for an ICMP error';
      s.send(payload);
    });
    socket.on('message', (msg: Buffer) => {
      if (!needReply) return attempt.succeed();
      if (spec.minReplyLength !== undefined && msg.length < spec.minReplyLength) {
        return attempt.fail('reply', `reply of ${msg.length} bytes, expected at least ${spec.minReplyLength}`);
      }
      if (spec.maxReplyLength !== undefined && msg.length > spec.maxReplyLength) {
        return attempt.fail('reply', `reply of ${msg.length} bytes, expected at most ${spec.maxReplyLength}`);
      }
      if (pattern && !pattern.matches(msg)) {
        return attempt.fail('reply', `reply starts ${msg.subarray(0, pattern.length).toString('hex')}, expected ${pattern.text}`);
      }
      attempt.succeed();
    });
    return () => closeQuietly(socket);
  });
}

/** Hex digits with optional spaces between them, e.g. "de ad be ef". */
export function hexBytes(value: string): Buffer {
  const hex = value.replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`payload ${JSON.stringify(value.slice(0, 40))} is not an even number of hex digits`);
  return Buffer.from(hex, 'hex');
}

/** keepalived's require_reply data: hex digits where 'x' matches any nibble. */
export function replyPattern(value: string): { length: number; text: string; matches(msg: Buffer): boolean } {
  const text = value.replace(/\s+/g, '').toLowerCase();
  if (!/^(?:[0-9a-fx]{2})*$/.test(text)) throw new Error(`reply pattern ${JSON.stringify(value.slice(0, 40))} is not an even number of hex digits or x`);
  const length = text.length / 2;
  const want = Buffer.from(text.replace(/x/g, '0'), 'hex');
  const mask = Buffer.from(text.replace(/[0-9a-f]/g, 'f').replace(/x/g, '0'), 'hex');
  return {
    length,
    text,
    matches: (msg) => {
      if (msg.length < length) return false;
      for (let i = 0; i < length; i += 1) if (((msg[i] as number) & (mask[i] as number)) !== want[i]) return false;
      return true;
    },
  };
}
