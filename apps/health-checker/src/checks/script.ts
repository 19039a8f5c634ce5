import { runAttempt } from './attempt.js';
import { killGroup, lastLine, lookupUser, spawnGroup, TailBuffer } from './child.js';
import type { CheckResult, ProbeContext } from './types.js';

export interface ScriptCheckSpec {
  /** The program and its arguments (keepalived's misc_path, split); run without a shell. */
  argv: readonly string[];
  /** keepalived's misc_timeout, in ms: past it the script is sent SIGTERM. */
  timeoutMs: number;
  /** After SIGTERM, SIGKILL follows this many ms later; default 1000. */
  killGraceMs?: number;
  /** keepalived's misc_dynamic: exit 2-255 = up with weight (code - 2). */
  dynamic?: boolean;
  /** Environment of the script (e.g. FULCRUM_RS_ADDRESS); default this process's. */
  env?: NodeJS.ProcessEnv;
  /** Run as this local user (keepalived's `user`), with its primary group and no others. */
  user?: string;
}

/**
 * keepalived's MISC_CHECK. Exit 0 is up; with `dynamic`, 1 is down and 2-255 are up with weight
 * (code - 2); without it any non-zero code is down. A script that overruns is killed (its process
 * group: SIGTERM, then SIGKILL) and counts as down.
 */
export function scriptCheck(spec: ScriptCheckSpec, ctx?: ProbeContext): Promise<CheckResult> {
  const grace = spec.killGraceMs ?? 1000;
  // The attempt's own deadline is only a backstop behind the TERM/KILL sequence below.
  return runAttempt(ctx, spec.timeoutMs + grace + 1000, (attempt) => {
    attempt.phase = `running ${spec.argv[0] ?? ''}`;
    const child = spawnGroup(spec.argv, spec.env, spec.user === undefined ? undefined : lookupUser(spec.user));
    const stderr = new TailBuffer(512);
    let overran: 'term' | 'kill' | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const termTimer = setTimeout(() => {
      overran = 'term';
      killGroup(child, 'SIGTERM');
      killTimer = setTimeout(() => {
        overran = 'kill';
        killGroup(child, 'SIGKILL');
      }, grace);
    }, spec.timeoutMs);
    child.stdout?.resume(); // output is not part of the verdict; drain it so the child never blocks
    child.stderr?.on('data', (c: Buffer) => stderr.push(c));
    child.once('error', (err: NodeJS.ErrnoException) => attempt.fail('error', `cannot run ${spec.argv[0]}: ${err.message}`));
    // 'exit', not 'close': a background grandchild holding stdout open must not stall the verdict.
    child.once('exit', (code, signal) => setImmediate(() => verdict(code, signal)));
    const verdict = (code: number | null, signal: NodeJS.Signals | null): void => {
      const said = lastLine(stderr.text());
      const tail = said ? `: ${said}` : '';
      if (overran !== null) {
        const how = overran === 'term' ? 'SIGTERM' : `SIGKILL after ${grace} ms grace`;
        return attempt.fail('killed', `${spec.argv[0]} ran longer than ${spec.timeoutMs} ms; stopped with ${how}`);
      }
      if (signal) return attempt.fail('killed', `${spec.argv[0]} died from ${signal}${tail}`);
      if (code === 0) return attempt.succeed();
      if (spec.dynamic && code !== null && code >= 2) return attempt.succeed({ weight: code - 2 });
      return attempt.fail('exit-code', `${spec.argv[0]} exited with status ${code}${tail}`);
    };
    return () => {
      clearTimeout(termTimer);
      if (killTimer) clearTimeout(killTimer);
      killGroup(child, 'SIGKILL');
    };
  });
}
