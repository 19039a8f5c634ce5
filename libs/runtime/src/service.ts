import type { Logger } from 'pino';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ServiceError } from './errors.js';
import { type ShutdownResult, ShutdownStack, type Closer } from './shutdown.js';
import { type Readiness, type ReadinessCheck, type StatusServer, createStatusServer } from './status-server.js';
import type { StatusConfig } from './service-config.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** Bad command line or configuration: restarting will not help (systemd: RestartPreventExitStatus=2). */
export const EXIT_USAGE = 2;

/** The parts of `process` the service uses, so specs can drive signals and exits. */
export type ProcessEvent = 'SIGTERM' | 'SIGINT' | 'uncaughtException' | 'unhandledRejection';
export interface ProcessHooks {
  on(event: ProcessEvent, listener: (err?: unknown) => void): void;
  off(event: ProcessEvent, listener: (err?: unknown) => void): void;
  exit(code: number): void;
}

/** The real process behind `ProcessHooks`. */
export const nodeProcess: ProcessHooks = {
  on: (event, listener) => void process.on(event as 'SIGTERM', listener),
  off: (event, listener) => void process.off(event as 'SIGTERM', listener),
  exit: (code) => process.exit(code),
};

export interface ServiceOptions<C extends { host: string; status: StatusConfig }> {
  name: string;
  version: string;
  config: C;
  logger: Logger;
  /** Defaults to a fresh registry with the default process metrics. */
  registry?: Registry;
  /** Budget for all closers together on stop. */
  shutdownTimeoutMs?: number;
  /** Defaults to the real `process`. */
  process?: ProcessHooks;
}

export interface Service<C> {
  readonly name: string;
  readonly version: string;
  readonly config: C;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Registers something to close on stop; closers run in reverse order of registration. */
  onStop(name: string, close: Closer): void;
  /** A condition /readyz requires, e.g. `bus` while the NATS connection is up. */
  addReadinessCheck(name: string, check: ReadinessCheck): void;
  /** Runs the readiness checks, as /readyz does. */
  readiness(): Promise<Readiness>;
  /** Starts the status server (its /readyz says `startup` until `ready()`). */
  start(): Promise<{ statusUrl: string }>;
  /** Startup is done: /readyz may pass, and the "started" line is logged. */
  ready(fields?: Record<string, unknown>): void;
  /** Runs the closers and returns the exit code (0 when all closed cleanly). Idempotent. */
  stop(reason: string): Promise<number>;
  /** Resolves with the exit code once a stop has finished. */
  readonly stopped: Promise<number>;
}

/**
 * The service kit: logger, metrics, status server and an orderly stop on SIGTERM/SIGINT (closers in
 * reverse order, one time budget, exit 0 when clean). An uncaught error is logged and the service
 * stops with exit code 1. A second signal during the stop exits at once.
 */
export function createService<C extends { host: string; status: StatusConfig }>(options: ServiceOptions<C>): Service<C> {
  const { name, version, config, logger } = options;
  const proc: ProcessHooks = options.process ?? nodeProcess;
  const timeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const registry = options.registry ?? defaultRegistry(name, version, config.host);
  const closers = new ShutdownStack();
  const status: StatusServer = createStatusServer({
    registry,
    logger: logger.child({ component: 'status' }),
    address: config.status.address,
    port: config.status.port,
  });
  let isReady = false;
  let statusUrl: string | undefined;
  let stopping: Promise<number> | undefined;
  let resolveStopped: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve;
  });
  status.addReadinessCheck('startup', () => isReady);

  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => () => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while stopping: exiting now');
      proc.exit(EXIT_FAILURE);
      return;
    }
    void stop(signal).then((code) => proc.exit(code));
  };
  const onTerm = onSignal('SIGTERM');
  const onInt = onSignal('SIGINT');
  const onFatal = (err: unknown) => {
    logger.fatal({ err }, 'uncaught error: stopping');
    void stop('uncaught error').then(() => proc.exit(EXIT_FAILURE));
  };
  proc.on('SIGTERM', onTerm);
  proc.on('SIGINT', onInt);
  proc.on('uncaughtException', onFatal);
  proc.on('unhandledRejection', onFatal);

  function stop(reason: string): Promise<number> {
    stopping ??= (async () => {
      isReady = false;
      logger.info({ reason }, 'stopping');
      const result: ShutdownResult = await closers.run(logger, timeoutMs);
      const code = result.clean ? EXIT_OK : EXIT_FAILURE;
      if (result.clean) logger.info({ reason }, 'stopped');
      else logger.error({ reason, failed: result.failed }, 'stopped with errors');
      proc.off('SIGTERM', onTerm);
      proc.off('SIGINT', onInt);
      proc.off('uncaughtException', onFatal);
      proc.off('unhandledRejection', onFatal);
      resolveStopped(code);
      return code;
    })();
    return stopping;
  }

  return {
    name,
    version,
    config,
    logger,
    registry,
    stopped,
    onStop: (closerName, close) => {
      if (stopping) throw new ServiceError(`cannot register ${closerName} for stop: the service is already stopping`);
      closers.push(closerName, close);
    },
    addReadinessCheck: (checkName, check) => status.addReadinessCheck(checkName, check),
    readiness: () => status.readiness(),
    async start() {
      if (statusUrl) throw new ServiceError('the service is already started');
      const bound = await status.listen();
      statusUrl = bound.url;
      closers.push('status server', () => status.close());
      logger.info({ status: statusUrl }, 'status server listening');
      return { statusUrl };
    },
    ready(fields = {}) {
      isReady = true;
      // Since the process started (module loading included), which is what an operator waits for.
      logger.info({ version, status: statusUrl, startupMs: Math.round(performance.now()), ...fields }, 'started');
    },
    stop,
  };
}

function defaultRegistry(name: string, version: string, host: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const info = new Gauge({
    name: 'fulcrum_service_info',
    help: 'Always 1; labels say which Fulcrum service and version this is',
    labelNames: ['service', 'version', 'host'],
    registers: [registry],
  });
  info.set({ service: name, version, host }, 1);
  return registry;
}
