import type { Logger } from 'pino';

export type Closer = () => void | Promise<void>;

export interface ShutdownResult {
  /** True when every closer finished without error inside the time budget. */
  clean: boolean;
  /** Closers that threw, timed out, or were not started because the budget ran out. */
  failed: string[];
}

/**
 * Things to close when the service stops, closed in reverse order of registration (the bus is
 * opened before the domain that uses it, so the domain stops first). The whole run has one time
 * budget: a closer that overruns it is abandoned, and the ones after it are skipped.
 */
export class ShutdownStack {
  private readonly closers: { name: string; close: Closer }[] = [];
  private running: Promise<ShutdownResult> | undefined;

  push(name: string, close: Closer): void {
    this.closers.push({ name, close });
  }

  get size(): number {
    return this.closers.length;
  }

  /** Runs the closers once; later calls get the same result. */
  run(logger: Logger, timeoutMs: number): Promise<ShutdownResult> {
    this.running ??= this.runOnce(logger, timeoutMs);
    return this.running;
  }

  private async runOnce(logger: Logger, timeoutMs: number): Promise<ShutdownResult> {
    const deadline = Date.now() + timeoutMs;
    const failed: string[] = [];
    const pending = [...this.closers].reverse();
    let exhausted = false;
    while (pending.length > 0) {
      const { name, close } = pending.shift() as (typeof pending)[number];
      const left = deadline - Date.now();
      // A timer may fire a little before Date.now() reaches the deadline: a timeout ends the budget.
      if (left <= 0 || exhausted) {
        failed.push(name, ...pending.map((c) => c.name));
        logger.error({ skipped: [name, ...pending.map((c) => c.name)], timeoutMs }, 'shutdown time budget used up');
        break;
      }
      const outcome = await withTimeout(close, left);
      if (outcome === 'ok') {
        logger.debug({ closer: name }, 'closed');
      } else if (outcome === 'timeout') {
        exhausted = true;
        failed.push(name);
        logger.error({ closer: name, timeoutMs }, 'closer did not finish in time');
      } else {
        failed.push(name);
        logger.error({ closer: name, err: outcome.err }, 'closer failed');
      }
    }
    return { clean: failed.length === 0, failed };
  }
}

async function withTimeout(close: Closer, ms: number): Promise<'ok' | 'timeout' | { err: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(close).then(() => 'ok' as const), timeout]);
  } catch (err) {
    return { err };
  } finally {
    clearTimeout(timer);
  }
}
