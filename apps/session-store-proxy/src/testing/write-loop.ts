// A bounded write loop through a proxy, for the failover specs: SETs one after another, each awaited, counting
// the acknowledged ones, the errors, and the longest time between two acknowledgements.
import { Redis } from 'ioredis';

export interface WriteLoopResult {
  /** Indexes i whose `SET <prefix><i> <i>` was acknowledged, in order. */
  acked: number[];
  /** Error messages of the writes that failed. */
  errors: string[];
  /** Longest time without an acknowledgement, ms. */
  gapMs: number;
}

export interface WriteLoop {
  /** Filled while the loop runs, so a spec can wait for progress. */
  result: WriteLoopResult;
  /** Resolves once `until()` holds or `maxMs` has passed. */
  done: Promise<WriteLoopResult>;
}

/** Starts writing `<prefix><i>` = i through the proxy on `port` until `until()` or `maxMs`. */
export function startWriteLoop(port: number, opts: { prefix: string; until: () => boolean; maxMs: number }): WriteLoop {
  const result: WriteLoopResult = { acked: [], errors: [], gapMs: 0 };
  // No client-side retries: each error the proxy returns is counted as the application would see it.
  const c = new Redis({ port, maxRetriesPerRequest: 0 });
  const run = async () => {
    let last = Date.now();
    const end = last + opts.maxMs;
    try {
      for (let i = 0; Date.now() < end && !opts.until(); i++) {
        try {
          await c.set(`${opts.prefix}${i}`, String(i));
          result.acked.push(i);
          result.gapMs = Math.max(result.gapMs, Date.now() - last);
          last = Date.now();
        } catch (e) {
          result.errors.push((e as Error).message);
        }
      }
    } finally {
      c.disconnect();
    }
    return result;
  };
  return { result, done: run() };
}
