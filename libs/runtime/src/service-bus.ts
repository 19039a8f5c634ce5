import type { Bus, BusAuth, BusOptions } from '@fulcrum/bus';
import type { Service } from './service.js';
import type { NatsConfig } from './service-config.js';

/** The bus credentials from the `nats` config block (the schema allows at most one way). */
export function busAuth(nats: NatsConfig): BusAuth | undefined {
  if (nats.user !== undefined && nats.password !== undefined) return { user: nats.user, pass: nats.password };
  if (nats.token !== undefined) return { token: nats.token };
  if (nats.credsFile !== undefined) return { credsFile: nats.credsFile };
  return undefined;
}

/**
 * Connects the service to NATS as `<service>@<host>`, with its logger and metrics registry. It
 * waits for a server that is not up yet (the service stays unready meanwhile) and then reconnects
 * for ever; /readyz requires the connection (`bus`), and stopping drains it.
 */
export async function connectServiceBus(svc: Service<{ host: string; nats: NatsConfig }>): Promise<Bus> {
  svc.logger.info({ servers: svc.config.nats.servers }, 'connecting to NATS');
  // Loaded here, not at import: --help, --version and --check-config need no NATS client.
  const { connectBus } = await import('@fulcrum/bus');
  const bus = await connectBus(serviceBusOptions(svc));
  svc.onStop('bus', () => bus.drain());
  svc.addReadinessCheck('bus', () => bus.state === 'connected');
  // Registered after the bus: closers run in reverse, so the last heartbeat goes out before the drain.
  const heartbeat = await startHeartbeat(svc, bus);
  svc.onStop('heartbeat', () => heartbeat.stop());
  return bus;
}

/** How often a service says it is alive, and how it is (the status bucket keeps each entry 2 minutes). */
export const HEARTBEAT_MS = 10_000;

/** What a heartbeat needs of a service beyond its bus. */
export type HeartbeatService = BusService & Pick<Service<{ host: string; nats: NatsConfig }>, 'version' | 'readiness'>;

const hasHeartbeat = (svc: BusService): svc is HeartbeatService => 'readiness' in svc && 'version' in svc;

/**
 * A `heartbeat` event every HEARTBEAT_MS (version, start time, readiness and each check), kept in the status
 * bucket under heartbeat.<host>.<service>: config-api's /v1/status lists the services it shows.
 */
export async function startHeartbeat(svc: HeartbeatService, bus: Bus, everyMs = HEARTBEAT_MS): Promise<{ stop(): void }> {
  const { StatusPublisher } = await import('@fulcrum/bus');
  const { makeEvent, serviceName } = await import('@fulcrum/schemas');
  const host = svc.config.host;
  const name = serviceName.safeParse(svc.name);
  // Only Fulcrum's own services have a place in the contract (a tool built on the kit has none).
  if (!name.success) return { stop: () => undefined };
  const service = name.data;
  const status = new StatusPublisher('heartbeat', { host, logger: svc.logger, withoutBucket: 'heartbeats only as events', refreshMs: 10 * everyMs });
  const startedAt = new Date(Date.now() - performance.now()).toISOString();
  let stopped = false;
  const beat = async () => {
    const r = await svc.readiness();
    if (stopped) return;
    status.publish(makeEvent('heartbeat', { service, host }, { version: svc.version.slice(0, 50), startedAt, ready: r.ready, checks: r.checks }));
  };
  const timer = setInterval(() => void beat().catch((err: unknown) => svc.logger.debug({ err }, 'heartbeat not sent')), everyMs);
  timer.unref();
  void status.attach(bus).then(() => beat()).catch((err: unknown) => svc.logger.debug({ err }, 'heartbeat not sent'));
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      status.close();
    },
  };
}

/** What connectServiceBus and its background variant need of a service. */
export type BusService = Pick<Service<{ host: string; nats: NatsConfig }>, 'name' | 'config' | 'logger' | 'registry'>;

/** The service's connection: named `<service>@<host>`, its credentials, waiting for a server that is not up yet. */
function serviceBusOptions(svc: BusService): BusOptions {
  const { nats, host } = svc.config;
  const auth = busAuth(nats);
  return {
    servers: nats.servers,
    name: `${svc.name}@${host}`,
    ...(auth ? { auth } : {}),
    logger: svc.logger,
    registry: svc.registry,
    timeoutMs: nats.requestTimeoutMs,
    waitForServer: true,
  };
}

export interface BackgroundBusOptions {
  /** Gets the bus once connected (publish what is pending, subscribe, follow the desired state). */
  readonly attach: (bus: Bus) => Promise<void> | void;
  /** What the service goes on doing without a bus, for the error line `no bus: <this>`. */
  readonly withoutBus: string;
  /** Runs first on close(), while the bus is still there (the last messages can still go out). */
  readonly detach?: () => Promise<void> | void;
  /** How to connect; default @fulcrum/bus connectBus (specs pass a double). */
  readonly connect?: (opts: BusOptions) => Promise<Bus>;
}

export interface BackgroundBus {
  /** The connection once made (it reconnects by itself afterwards), else null. */
  readonly bus: Bus | null;
  /** Stops waiting for a server or drains the connection; one that comes later is closed at once. */
  close(): Promise<void>;
}

/**
 * Connects the service to NATS as `<service>@<host>` without making it wait: the service does its
 * real job from the configuration meanwhile, and `attach` gets the bus once a server answers (the
 * bus logs 'bus connected'). A connection or attach that fails is logged, not thrown: the service
 * runs on without the bus. Register `close` with `svc.onStop`.
 */
export function connectServiceBusInBackground(svc: BusService, opts: BackgroundBusOptions): BackgroundBus {
  let bus: Bus | null = null;
  let heartbeat: { stop(): void } | null = null;
  let closed = false;
  svc.logger.debug({ servers: svc.config.nats.servers }, 'connecting to NATS in the background');
  // Loaded here, not at import: --help, --version and --check-config need no NATS client.
  const connect = opts.connect ?? (async (o: BusOptions) => (await import('@fulcrum/bus')).connectBus(o));
  void connect(serviceBusOptions(svc))
    .then(async (b) => {
      if (closed) return void (await b.close());
      bus = b;
      if (hasHeartbeat(svc)) heartbeat = await startHeartbeat(svc, b);
      await opts.attach(b);
    })
    .catch((err: unknown) => {
      if (closed) return svc.logger.debug({ err }, 'bus set-up ended by the stop');
      svc.logger.error({ err }, `no bus: ${opts.withoutBus}`);
    });
  return {
    get bus() {
      return bus;
    },
    async close() {
      if (closed) return;
      closed = true;
      heartbeat?.stop();
      await opts.detach?.();
      await bus?.drain();
    },
  };
}
