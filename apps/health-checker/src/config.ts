import { serviceConfig } from '@fulcrum/runtime';
import { virtualService } from '@fulcrum/schemas';
import { z } from 'zod';
import { DEFAULT_MAX_IN_FLIGHT } from './engine/engine.js';

/** health-checker's status server port (/healthz, /readyz, /metrics); the Fulcrum services use 9701-9706. */
export const STATUS_PORT = 9703;

export const configSchema = serviceConfig({ statusPort: STATUS_PORT }).extend({
  virtualServices: z
    .array(z.preprocess((v) => (v && typeof v === 'object' && !('kind' in v) ? { kind: 'virtual-service', ...v } : v), virtualService))
    .default([])
    .describe('virtual services to check without the bus (same fields as the desired state; the KV store overrides an id it also has)'),
  desiredState: z.boolean().default(true).describe('also check the virtual services of the desired-state KV store (when NATS is reachable)'),
  maxInFlight: z.number().int().min(1).max(65_536).default(DEFAULT_MAX_IN_FLIGHT).describe('probes running at once at most; further due checks wait'),
  heloName: z.string().min(1).max(255).optional().describe('name SMTP checks send with HELO when theirs sets none (default: this host name)'),
});
export type HealthCheckerConfig = z.infer<typeof configSchema>;
