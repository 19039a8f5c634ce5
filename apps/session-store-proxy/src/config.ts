import { serviceConfig } from '@fulcrum/runtime';
import { sessionStore } from '@fulcrum/schemas';
import { z } from 'zod';
import { CONNECTION_COMMANDS, FORWARDED } from './commands.js';

/** session-store-proxy's status server port (/healthz, /readyz, /metrics); the Fulcrum services use 9701-9706. */
export const STATUS_PORT = 9705;

const ms = (def: number) => z.number().int().min(1).max(3_600_000).default(def);

/** How this proxy treats clients: limits, key prefix, TTL cap, durability. */
export const proxySettings = z
  .object({
    /** Also listen on this unix socket path. */
    unixSocket: z.string().min(1).max(107).optional(),
    /** Prepended to every key (per-app namespace upstream), e.g. "shop:". */
    keyPrefix: z.string().max(64).regex(/^[^\s]*$/, { message: 'must not contain spaces' }).default(''),
    /** Longest life of any key written through the proxy; null = no cap. */
    maxTtlSeconds: z.number().int().min(1).max(365 * 86400).nullable().default(86400),
    /** Acknowledge a write only after one replica has it (WAIT 1 durableTimeoutMs). */
    durable: z.boolean().default(false),
    durableTimeoutMs: ms(1000),
    /** Largest bulk string a client may send; a bigger one is refused and the client closed. */
    maxBulkBytes: z.number().int().min(1024).max(512 * 1024 * 1024).default(512 * 1024),
    maxArgs: z.number().int().min(3).max(1_000_000).default(4096),
    /** A client with a half-sent command for this long is closed. */
    partialTimeoutMs: ms(10_000),
    /** A silent client is closed after this long; 0 = never. */
    idleTimeoutMs: z.number().int().min(0).max(86_400_000).default(0),
    /** Replies queued for one slow client before its requests stop being read. */
    maxPendingReplies: z.number().int().min(16).max(1_000_000).default(256),
    maxClients: z.number().int().min(1).max(1_000_000).default(10_000),
    /** A forwarded command fails (retryably) when no reply came in this long, failovers included. */
    commandTimeoutMs: ms(5000),
  })
  .strict();
export type ProxySettings = z.infer<typeof proxySettings>;

/** The session-store object (as in the desired state) plus this proxy's settings. */
export const configSchema = serviceConfig({ statusPort: STATUS_PORT })
  .extend({
    /** The store this proxy serves; without it the proxy stays not ready. */
    store: sessionStore.optional(),
    proxy: proxySettings.default(proxySettings.parse({})),
  })
  .superRefine((c, ctx) => {
    if (c.store?.readFromReplicas) {
      ctx.addIssue({ code: 'custom', path: ['store', 'readFromReplicas'], message: 'is not supported by this proxy: every command goes to the master' });
    }
    c.store?.allowedCommands.forEach((cmd, i) => {
      if (FORWARDED[cmd] === undefined && !CONNECTION_COMMANDS.has(cmd)) {
        ctx.addIssue({ code: 'custom', path: ['store', 'allowedCommands', i], message: `${cmd} is not a command the proxy can forward (it knows: ${Object.keys(FORWARDED).join(' ')})` });
      }
    });
  });
export type SessionStoreProxyConfig = z.infer<typeof configSchema>;
