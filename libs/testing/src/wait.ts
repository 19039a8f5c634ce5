import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { HarnessError } from './process.js';

/** Polls `check` until it returns something other than false/undefined, or fails after timeoutMs (default 5 s). */
export async function eventually<T>(
  what: string,
  check: () => T | false | undefined | Promise<T | false | undefined>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== false && result !== undefined) return result;
    if (Date.now() > deadline) throw new HarnessError(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(20);
  }
}

export interface LogRecord {
  level: number;
  msg?: string;
  [field: string]: unknown;
}

/** A pino logger that keeps its records in memory, so a spec can assert what was logged. */
export function memoryLogger(level = 'debug'): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = pino({ level }, { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) });
  return { logger, records };
}
