import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { failedNow, runAttempt } from './attempt.js';
import { killGroup, lastLine, spawnGroup, TailBuffer } from './child.js';
import { assertNumeric } from './socket.js';
import type { IcmpCheckSpec } from './icmp.js';
import type { CheckResult, ProbeContext } from './types.js';

export interface PingCommandSpec extends IcmpCheckSpec {
  /**
   * Runs ping through this prefix, e.g. ['ip', 'netns', 'exec', 'ns1'] to probe from a network
   * namespace; argv only, never a shell.
   */
  prefix?: readonly string[];
}

/** The ping program used: iputils' when installed, else busybox's. */
export function pingCommand(): string[] {
  for (const p of ['/usr/bin/ping', '/bin/ping']) if (existsSync(p)) return [p];
  for (const p of ['/usr/bin/busybox', '/bin/busybox']) if (existsSync(p)) return [p, 'ping'];
  return ['ping'];
}

let ping: string[] | undefined;

/**
 * keepalived's PING_CHECK through a `ping -c 1` child: the fallback where this process may not open
 * raw sockets (no CAP_NET_RAW; ping has it as a file capability). It cannot set a firewall mark.
 */
export function pingIcmpCheck(target: { address: string }, spec: PingCommandSpec, ctx?: ProbeContext): Promise<CheckResult> {
  if (spec.mark !== undefined) return failedNow('error', `fwmark ${spec.mark}: the ping command cannot set SO_MARK`);
  // The child gets a little longer than the deadline it was given so its own verdict comes first.
  return runAttempt(ctx, spec.timeoutMs + 500, (attempt) => {
    assertNumeric(target.address, 'target address');
    if (spec.source?.address !== undefined) assertNumeric(spec.source.address, 'source address');
    ping ??= pingCommand();
    const seconds = Math.max(1, Math.ceil(spec.timeoutMs / 1000));
    const argv = [
      ...(spec.prefix ?? []),
      ...ping,
      isIP(target.address) === 6 ? '-6' : '-4',
      '-c', '1',
      '-W', String(seconds),
      '-w', String(seconds),
      ...(spec.source?.address !== undefined ? ['-I', spec.source.address] : []),
      target.address,
    ];
    attempt.phase = `waiting for an echo reply from ${target.address}`;
    const child = spawnGroup(argv, { LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/bin:/bin' });
    const out = new TailBuffer(1024);
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => out.push(c));
    child.once('error', (err) => attempt.fail('error', `cannot run ${argv[0]}: ${err.message}`));
    child.once('exit', (code) =>
      setImmediate(() => {
        if (code === 0) return attempt.succeed();
        const said = lastLine(out.text());
        // Both pings exit 1 for "no reply" and for a send error such as ENETUNREACH.
        if (code === 1 && /unreachable/i.test(said)) return attempt.fail('unreachable', `ping ${target.address}: ${said}`);
        if (code === 1) return attempt.fail('timeout', `no echo reply from ${target.address} within ${seconds} s`);
        return attempt.fail('unreachable', `ping ${target.address} failed (exit ${code})${said ? `: ${said}` : ''}`);
      }),
    );
    return () => killGroup(child, 'SIGKILL');
  });
}
