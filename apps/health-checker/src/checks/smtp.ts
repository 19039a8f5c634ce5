import { runAttempt } from './attempt.js';
import { openStream } from './socket.js';
import type { CheckResult, Endpoint, NetworkProbeSpec, ProbeContext } from './types.js';

export interface SmtpCheckSpec extends NetworkProbeSpec {
  /** keepalived's helo_name; default as keepalived's. */
  heloName?: string;
  /** Send EHLO instead of HELO. */
  ehlo?: boolean;
}

export const DEFAULT_HELO_NAME = 'smtpchecker.keepalived.org';
const MAX_REPLY_BYTES = 4096;
const HELO_NAME = /^[A-Za-z0-9.\-_[\]:]{1,255}$/;

/**
 * keepalived's SMTP_CHECK: the banner must be 220, HELO (or EHLO) must be answered 250; then
 * QUIT is sent and the connection closed without waiting for the goodbye.
 */
export function smtpCheck(target: Endpoint, spec: SmtpCheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  return runAttempt(ctx, spec.timeoutMs, (attempt) => {
    const name = spec.heloName ?? DEFAULT_HELO_NAME;
    if (!HELO_NAME.test(name)) throw new Error(`helo name ${JSON.stringify(name)} is not a host name or address literal`);
    const verb = spec.ehlo ? 'EHLO' : 'HELO';
    const socket = openStream(target, spec.source, attempt);
    let step: 'banner' | 'helo' = 'banner';
    let reply = '';
    socket.setEncoding('latin1');
    socket.once('connect', () => (attempt.phase = 'waiting for the SMTP banner'));
    socket.on('data', (text: string) => {
      if (attempt.settled) return;
      reply += text;
      if (reply.length > MAX_REPLY_BYTES) return attempt.fail('too-large', `SMTP reply longer than ${MAX_REPLY_BYTES} bytes`);
      const done = completeReply(reply);
      if (done === null) return;
      if (done === 'bad') return attempt.fail('protocol', `not an SMTP reply: ${JSON.stringify(reply.slice(0, 60))}`);
      reply = '';
      const expected = step === 'banner' ? 220 : 250;
      if (done.code !== expected) {
        const what = step === 'banner' ? 'banner' : `reply to ${verb}`;
        return attempt.fail('status', `SMTP ${what} ${done.code} ${JSON.stringify(done.text)}, expected ${expected}`);
      }
      if (step === 'banner') {
        step = 'helo';
        attempt.phase = `waiting for the reply to ${verb}`;
        socket.write(`${verb} ${name}\r\n`);
      } else {
        // Up once QUIT is flushed; the goodbye adds nothing to the verdict.
        socket.end('QUIT\r\n', () => attempt.succeed());
      }
    });
    socket.once('end', () => attempt.fail('protocol', `connection closed while ${attempt.phase}`));
    return () => socket.destroy();
  });
}

/**
 * A complete (possibly multi-line "250-...") reply: its code and last line's text; null while
 * more is needed; 'bad' when the lines are not SMTP replies.
 */
export function completeReply(buf: string): { code: number; text: string } | null | 'bad' {
  let start = 0;
  for (;;) {
    const nl = buf.indexOf('\n', start);
    if (nl === -1) return /^(\d{0,3}|\d{3}[ -].*)$/s.test(buf.slice(start)) ? null : 'bad';
    const line = buf.slice(start, buf[nl - 1] === '\r' ? nl - 1 : nl);
    const m = /^(\d{3})([ -])(.*)$|^(\d{3})$/.exec(line);
    if (!m) return 'bad';
    if (m[4] !== undefined || m[2] === ' ') return { code: Number(m[1] ?? m[4]), text: m[3] ?? '' };
    start = nl + 1;
  }
}
