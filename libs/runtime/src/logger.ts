import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';
import { ConfigError } from './errors.js';
import { REDACTED, SECRET_KEYS, redactSecrets } from './redact.js';
import type { LogLevel } from './service-config.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** The service, e.g. `ipvs-agent`; every line carries it. */
  name: string;
  /** This host's name; every line carries it. */
  host?: string;
  level?: LogLevel;
  /** Colored human-readable lines (loads pino-pretty, a dev dependency) instead of JSON. */
  pretty?: boolean;
  /** Where JSON lines go; defaults to stdout (fd 1). A CLI uses 2 so its output stays clean. */
  destination?: DestinationStream | 1 | 2;
  /** Exact pino redaction paths on top of the secret key names (e.g. `upstream.url`). */
  redact?: readonly string[];
}

/**
 * A pino logger writing JSON lines (synchronously, so the last lines before an exit are not lost),
 * with the values of secret keys (`SECRET_KEYS`) replaced wherever they appear. Components log through `logger.child({ component })`, and
 * errors go in as `logger.error({ err }, 'what failed')`.
 */
export function createLogger(options: LoggerOptions): Logger {
  const opts = {
    level: options.level ?? 'info',
    base: { service: options.name, ...(options.host ? { host: options.host } : {}), pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Secrets are found by key name at any depth in what is logged (a config logged whole has them
    // five levels down, inside lists), which fixed pino paths cannot reach; child bindings bypass
    // the log formatter, so pino's own redaction covers them to two levels.
    formatters: { log: redactSecrets },
    redact: { paths: bindingPaths(options.redact ?? []), censor: REDACTED },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  const target = options.destination ?? 1;
  if (options.pretty) return pino(opts, prettyStream(typeof target === 'number' ? target : 1));
  return pino(opts, typeof target === 'number' ? pino.destination({ dest: target, sync: true }) : target);
}

function bindingPaths(extra: readonly string[]): string[] {
  const keys = SECRET_KEYS.map((k) => (/^[A-Za-z_]\w*$/.test(k) ? k : `["${k}"]`));
  return [...new Set([...keys, ...keys.map((k) => `*.${k}`), ...extra])];
}

function prettyStream(fd: 1 | 2): DestinationStream {
  // Loaded only when asked for, so production installs need nothing beyond pino.
  let pretty: (opts: object) => DestinationStream;
  try {
    pretty = createRequire(import.meta.url)('pino-pretty') as typeof pretty;
  } catch (err) {
    throw new ConfigError(
      undefined,
      [{ key: 'log.pretty', message: 'needs the pino-pretty package, which is not installed here; set it to false' }],
      { cause: err },
    );
  }
  return pretty({ destination: fd, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service,host' });
}
