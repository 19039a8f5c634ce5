import type { Bus, BusAuth } from '@fulcrum/bus';
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
  const { nats, host } = svc.config;
  svc.logger.info({ servers: nats.servers }, 'connecting to NATS');
  const auth = busAuth(nats);
  // Loaded here, not at import: --help, --version and --check-config need no NATS client.
  const { connectBus } = await import('@fulcrum/bus');
  const bus = await connectBus({
    servers: nats.servers,
    name: `${svc.name}@${host}`,
    ...(auth ? { auth } : {}),
    logger: svc.logger,
    registry: svc.registry,
    timeoutMs: nats.requestTimeoutMs,
    waitForServer: true,
  });
  svc.onStop('bus', () => bus.drain());
  svc.addReadinessCheck('bus', () => bus.state === 'connected');
  return bus;
}
