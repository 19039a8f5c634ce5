import { execFile } from 'node:child_process';
import type { TrackedScript } from '@fulcrum/schemas';

// What a tracked object does to an instance, keepalived's way: weight 0 means its failure puts
// the instance in fault; a positive weight is added to the priority while it succeeds, a negative
// one while it fails (`reverse` swaps success and failure).

export interface TrackedState {
  readonly ok: boolean;
  readonly weight: number;
  readonly reverse?: boolean;
}

/** The priority change one tracked object makes now. */
export function trackedContribution(t: TrackedState): number {
  const ok = t.reverse ? !t.ok : t.ok;
  if (t.weight > 0) return ok ? t.weight : 0;
  if (t.weight < 0) return ok ? 0 : t.weight;
  return 0;
}

/** Sum of the contributions of the weighted objects (see effectivePriority in @fulcrum/vrrp). */
export const trackedWeight = (states: Iterable<TrackedState>): number => {
  let sum = 0;
  for (const s of states) sum += trackedContribution(s);
  return sum;
};

/** Consecutive results needed to change state: `rise` successes to come up, `fall` failures to go down. */
export class RiseFall {
  private run = 0;
  constructor(
    private current: boolean,
    private readonly rise: number,
    private readonly fall: number,
  ) {}
  get ok(): boolean {
    return this.current;
  }
  /** Feeds one result; true when the state changed. */
  feed(ok: boolean): boolean {
    if (ok === this.current) {
      this.run = 0;
      return false;
    }
    this.run += 1;
    if (this.run < (ok ? this.rise : this.fall)) return false;
    this.current = ok;
    this.run = 0;
    return true;
  }
}

export interface ScriptResult {
  readonly ok: boolean;
  readonly why: string;
}

/** Runs a script once: success is exit 0 within the timeout. */
export function runScript(script: TrackedScript): Promise<ScriptResult> {
  const timeoutMs = Math.round((script.timeout ?? script.interval) * 1000);
  return new Promise((resolve) => {
    execFile(script.path, script.args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err) => {
      if (!err) return resolve({ ok: true, why: `script ${script.name} succeeded` });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
      if (e.killed) return resolve({ ok: false, why: `script ${script.name} timed out after ${timeoutMs} ms` });
      if (typeof e.code === 'number') return resolve({ ok: false, why: `script ${script.name} exited with ${e.code}` });
      resolve({ ok: false, why: `script ${script.name} could not run: ${e.code ?? e.message}` });
    });
  });
}

/** Runs a tracked script every interval and reports each change of its rise/fall state. */
export class ScriptTracker {
  private readonly state: RiseFall;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    readonly script: TrackedScript,
    private readonly onChange: (ok: boolean, why: string) => void,
    private readonly run: (s: TrackedScript) => Promise<ScriptResult> = runScript,
  ) {
    this.state = new RiseFall(!script.initFail, script.rise, script.fall);
  }

  get ok(): boolean {
    return this.state.ok;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  private async tick(): Promise<void> {
    const started = Date.now();
    const r = await this.run(this.script);
    if (this.stopped) return;
    if (this.state.feed(r.ok)) this.onChange(r.ok, r.why);
    const wait = Math.max(0, this.script.interval * 1000 - (Date.now() - started));
    this.timer = setTimeout(() => void this.tick(), wait);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
