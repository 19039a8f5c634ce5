import { serviceConfig } from '@fulcrum/runtime';
import type { z } from 'zod';

/** config-api's status server port (/healthz, /readyz, /metrics); the Fulcrum services use 9701-9706. */
export const STATUS_PORT = 9704;

/** The common service block (host, nats, status, log); the app's own keys arrive with its domain. */
export const configSchema = serviceConfig({ statusPort: STATUS_PORT });
export type ConfigApiConfig = z.infer<typeof configSchema>;
