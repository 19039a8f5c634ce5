import { serviceConfig } from '@fulcrum/runtime';
import { absolutePath } from '@fulcrum/schemas';
import { z } from 'zod';
import { tokenEntry } from './auth/tokens.js';

/** config-api's status server port (/healthz, /readyz, /metrics); the Fulcrum services use 9701-9706. */
export const STATUS_PORT = 9704;
/** The REST API's port. */
export const API_PORT = 9780;

export const apiConfig = z
  .object({
    address: z.string().default('127.0.0.1').describe('address the REST API listens on'),
    port: z.number().int().min(0).max(65535).default(API_PORT).describe('port of the REST API (0 = any free port)'),
    tls: z
      .object({
        cert: absolutePath.describe('PEM certificate chain'),
        key: absolutePath.describe('PEM private key'),
      })
      .strict()
      .optional()
      .describe('serve HTTPS instead of HTTP'),
    tokensFile: absolutePath.optional().describe('YAML or JSON file { tokens: [{ name, role, hash }] } (hashes from `config-api hash-token`)'),
    tokens: z.array(tokenEntry).default([]).describe('tokens given in this file: [{ name, role: reader|operator|admin, hash }]'),
    bodyLimitBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024).describe('largest request body'),
    docs: z.boolean().default(true).describe('serve the OpenAPI document (/openapi.json) and its UI (/docs)'),
    authFailures: z
      .object({
        limit: z.number().int().min(1).max(10_000).default(10).describe('failed authentications allowed per client address in the window'),
        windowSeconds: z.number().int().min(1).max(86_400).default(60),
      })
      .strict()
      .prefault({}),
    commandTimeoutMs: z.number().int().min(100).max(60_000).default(5000).describe('how long an operation waits for each agent'),
  })
  .strict();

export const storeConfig = z
  .object({
    replicas: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(1)
      .describe('copies of the desired-state, commit-log and status buckets when config-api creates them: 3 on a 3-node NATS cluster, 1 on a single server'),
  })
  .strict();

export const configSchema = serviceConfig({ statusPort: STATUS_PORT }).extend({ api: apiConfig.prefault({}), store: storeConfig.prefault({}) });
export type ConfigApiConfig = z.infer<typeof configSchema>;
