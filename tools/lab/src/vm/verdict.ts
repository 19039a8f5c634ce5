// What a run ended as, decided from what the host can see: whether the guest said "up", whether it
// wrote an exit status, how qemu exited, and the clock. Pure, so that every path is unit-tested.

export const exitTimeout = 124;
export const exitLabFailed = 125;

export interface Failure {
  exitCode: number;
  reason: string;
}

export interface Watch {
  startedAt: number;
  /** When the guest's stage 2 said "up"; null until then. */
  upAt: number | null;
  bootTimeoutMs: number;
  /** Whole-run limit, boot included; null: none. */
  runTimeoutMs: number | null;
  kvm: boolean;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

function withTail(reason: string, tail: readonly string[]): string {
  const lines = tail.filter((l) => l.trim());
  return lines.length ? `${reason}; last console lines:\n  ${lines.join('\n  ')}` : `${reason}; the console printed nothing`;
}

/** A reason to stop the guest now, or null while it is within its time. */
export function overdue(w: Watch, now: number, tail: readonly string[] = []): Failure | null {
  const elapsed = now - w.startedAt;
  if (w.upAt === null && elapsed >= w.bootTimeoutMs) {
    const hint = w.kvm
      ? ': with --kvm this is the known hang of a stock kernel under a nested (PVM) hypervisor; run without --kvm to use TCG'
      : ' (a loaded host can slow the boot: --boot-timeout raises the limit)';
    return { exitCode: exitLabFailed, reason: withTail(`the guest did not come up within ${seconds(w.bootTimeoutMs)}${hint}`, tail) };
  }
  if (w.runTimeoutMs !== null && elapsed >= w.runTimeoutMs) {
    return { exitCode: exitTimeout, reason: `the run took longer than --timeout ${seconds(w.runTimeoutMs)}; the guest was stopped` };
  }
  return null;
}

export interface Ended {
  /** The content of the control share's `status` file, or null if the guest wrote none. */
  status: string | null;
  up: boolean;
  qemuCode: number | null;
  qemuSignal: string | null;
  qemuStderr: string;
  tail: readonly string[];
}

/** The lab's exit code once qemu has exited, and a reason when it is not the command's own. */
export function ended(e: Ended): { exitCode: number; reason: string | null } {
  if (e.status !== null && /^\d+\s*$/.test(e.status)) return { exitCode: Number(e.status), reason: null };
  const qemuFailed = e.qemuCode !== 0 || e.qemuSignal !== null;
  const stderr = e.qemuStderr.trim();
  if (!e.up && qemuFailed) {
    const how = e.qemuSignal ? `was killed by ${e.qemuSignal}` : `exited ${e.qemuCode}`;
    return { exitCode: exitLabFailed, reason: withTail(`qemu ${how} before the guest came up${stderr ? `: ${stderr}` : ''}`, e.tail) };
  }
  if (!e.up) return { exitCode: exitLabFailed, reason: withTail('the guest powered off before it came up', e.tail) };
  return {
    exitCode: exitLabFailed,
    reason: withTail(
      'the guest stopped without reporting the command\'s exit status (kernel panic? out of memory? try --mem)' +
        (stderr ? `; qemu: ${stderr}` : ''),
      e.tail,
    ),
  };
}
