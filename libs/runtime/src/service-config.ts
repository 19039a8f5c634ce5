import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { slug } from '@fulcrum/schemas';
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];


/** This machine's short host name, lowercased (the part before the first dot). */
export function defaultHostName(): string {
  return (hostname().split('.')[0] ?? '').toLowerCase();
}

export const logConfig = z
  .object({
    level: z.enum(LOG_LEVELS).default('info').describe('least severe level written'),
    pretty: z
      .boolean()
      .default(false)
      .describe('human-readable colored lines instead of JSON (needs the pino-pretty package, a dev dependency)'),
  })
  .strict();
export type LogConfig = z.infer<typeof logConfig>;

const natsServer = z.string().refine(isNatsUrl, {
  message: 'must be a NATS server URL: nats://host:port, tls://host:port or host:port',
});

function isNatsUrl(s: string): boolean {
  try {
    const url = new URL(s.includes('://') ? s : `nats://${s}`);
    return ['nats:', 'tls:'].includes(url.protocol) && url.hostname !== '' && url.pathname.replace(/^\/$/, '') === '';
  } catch {
    return false;
  }
}

export const natsConfig = z
  .object({
    servers: z
      .array(natsServer)
      .min(1)
      .default(['nats://127.0.0.1:4222'])
      .describe('NATS servers to connect to (any of them; comma-separated in the environment)'),
    user: z.string().min(1).optional().describe('user name (with password)'),
    password: z.string().min(1).optional().describe('password of the user (secret)'),
    token: z.string().min(1).optional().describe('authentication token, instead of user and password (secret)'),
    credsFile: z.string().min(1).optional().describe('NATS credentials file (JWT + nkey seed), instead of the others'),
    requestTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(120_000)
      .default(2000)
      .describe('how long a request or KV operation waits for NATS before it fails and is retried (ms)'),
  })
  .strict()
  .superRefine((nats, ctx) => {
    if (nats.user !== undefined && nats.password === undefined) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'is required when nats.user is set' });
    }
    if (nats.password !== undefined && nats.user === undefined) {
      ctx.addIssue({ code: 'custom', path: ['user'], message: 'is required when nats.password is set' });
    }
    const methods = [
      nats.user !== undefined || nats.password !== undefined ? 'user/password' : undefined,
      nats.token !== undefined ? 'token' : undefined,
      nats.credsFile !== undefined ? 'credsFile' : undefined,
    ].filter((m) => m !== undefined);
    if (methods.length > 1) {
      ctx.addIssue({ code: 'custom', path: [], message: `use one way to authenticate, not ${methods.join(' and ')}` });
    }
  });
export type NatsConfig = z.infer<typeof natsConfig>;

export const statusConfig = (defaultPort: number) =>
  z
    .object({
      address: z
        .string()
        .refine((s) => isIP(s) !== 0, { message: 'must be an IPv4 or IPv6 address' })
        .default('127.0.0.1')
        .describe('address the status server (/healthz, /readyz, /metrics) listens on'),
      port: z
        .number()
        .int()
        .min(0)
        .max(65535)
        .default(defaultPort)
        .describe('port of the status server (0 = any free port)'),
    })
    .strict();
export type StatusConfig = z.infer<ReturnType<typeof statusConfig>>;

/** The host's name is a slug like every object name: it becomes a NATS subject token. */
export const hostConfig = slug
  .default(defaultHostName)
  .describe("name of this host in events and NATS subjects; defaults to this machine's short host name");

/**
 * The block every service shares: `host`, `nats`, `status`, `log`. An app adds its own keys with
 * `.extend({...})`; unknown keys stay refused.
 */
export function serviceConfig(defaults: { statusPort: number }) {
  return z
    .object({
      host: hostConfig,
      nats: natsConfig.prefault({}),
      status: statusConfig(defaults.statusPort).prefault({}),
      log: logConfig.prefault({}),
    })
    .strict();
}

export type ServiceConfig = z.infer<ReturnType<typeof serviceConfig>>;
