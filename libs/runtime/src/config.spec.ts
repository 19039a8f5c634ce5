import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { serviceConfig } from './service-config.js';

const dir = mkdtempSync(join(tmpdir(), 'fulcrum-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string, ext = 'yaml'): string {
  const path = join(dir, `c${n++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

const schema = serviceConfig({ statusPort: 9701 }).extend({
  role: z.enum(['director', 'realserver']).default('director'),
  reconcile: z.object({ intervalMs: z.number().int().min(100).default(30_000), dryRun: z.boolean().default(false) }).strict().prefault({}),
});

/** The ConfigError thrown by `fn`, or a failure. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills every default when there is no file and no environment', () => {
    const { config } = loadConfig(schema, { env: {} });
    expect(config.nats.servers).toEqual(['nats://127.0.0.1:4222']);
    expect(config.status).toEqual({ address: '127.0.0.1', port: 9701 });
    expect(config.log).toEqual({ level: 'info', pretty: false });
    expect(config.reconcile).toEqual({ intervalMs: 30_000, dryRun: false });
    expect(config.host).toMatch(/^[a-z0-9-]+$/);
  });

  it('reads YAML and JSON files', () => {
    const yaml = file('host: director1\nnats:\n  servers: [nats://10.0.0.1:4222, 10.0.0.2:4222]\nrole: realserver\n');
    expect(loadConfig(schema, { file: yaml, env: {} }).config).toMatchObject({
      host: 'director1',
      role: 'realserver',
      nats: { servers: ['nats://10.0.0.1:4222', '10.0.0.2:4222'] },
    });
    const json = file(JSON.stringify({ host: 'director2', status: { port: 0 } }), 'json');
    expect(loadConfig(schema, { file: json, env: {} }).config).toMatchObject({ host: 'director2', status: { port: 0 } });
  });

  it('lets the environment override the file, converting to the key type', () => {
    const path = file('host: director1\nnats:\n  user: agent\n  password: from-file\nstatus:\n  port: 9701\n');
    const { config, ignoredEnv } = loadConfig(schema, {
      file: path,
      env: {
        FULCRUM_NATS__PASSWORD: 'from-env',
        FULCRUM_NATS__SERVERS: 'nats://a:4222, nats://b:4222',
        FULCRUM_NATS__REQUEST_TIMEOUT_MS: '15000',
        FULCRUM_STATUS__PORT: '9801',
        FULCRUM_RECONCILE__INTERVAL_MS: '500',
        FULCRUM_RECONCILE__DRY_RUN: 'true',
        FULCRUM_TEST_ONLY: 'unit', // another tool's variable: ignored, reported
        FULCRUM_LOG__LEVEL: '', // empty = unset
        OTHER: 'x',
      },
    });
    expect(config.nats).toEqual({ servers: ['nats://a:4222', 'nats://b:4222'], user: 'agent', password: 'from-env', requestTimeoutMs: 15000 });
    expect(config.status.port).toBe(9801);
    expect(config.reconcile).toEqual({ intervalMs: 500, dryRun: true });
    expect(config.log.level).toBe('info');
    expect(ignoredEnv).toEqual(['FULCRUM_TEST_ONLY']);
  });

  it('honours another prefix', () => {
    const { config } = loadConfig(schema, { env: { FULCRUMCTL_HOST: 'laptop', FULCRUM_HOST: 'no' }, envPrefix: 'FULCRUMCTL_' });
    expect(config.host).toBe('laptop');
  });

  it('names every bad key with its line in the file, and the file', () => {
    const path = file(
      ['host: Director_1', 'nats:', '  servers: []', '  usr: agent', 'status:', '  port: 70000', 'log:', '  level: loud', 'extra: 1'].join('\n'),
    );
    const err = configError(() => loadConfig(schema, { file: path, env: {} }));
    expect(err.file).toBe(path);
    const byKey = Object.fromEntries(err.problems.map((p) => [p.key, p]));
    expect(byKey['host']).toMatchObject({ source: 'line 1', message: expect.stringMatching(/lowercase letters, digits/) });
    expect(byKey['nats.servers']).toMatchObject({ source: 'line 3', message: 'must not be empty' });
    expect(byKey['nats.usr']).toMatchObject({ source: 'line 4', message: 'unknown key; did you mean user?' });
    expect(byKey['status.port']).toMatchObject({ source: 'line 6', message: 'must be at most 65535' });
    expect(byKey['log.level']).toMatchObject({ source: 'line 8', message: 'must be one of: fatal, error, warn, info, debug, trace, silent' });
    expect(byKey['extra']).toMatchObject({ source: 'line 9', message: expect.stringMatching(/^unknown key/) });
    expect(err.message).toContain(`invalid configuration in ${path}:`);
    expect(err.message).toContain('\n  status.port (line 6): must be at most 65535\n');
    expect(err.message).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('names the environment variable when the bad value came from there', () => {
    const err = configError(() =>
      loadConfig(schema, { env: { FULCRUM_STATUS__PORT: 'http', FULCRUM_NATS__SERVERS: 'http://x/', FULCRUM_NATS__URL: 'x' } }),
    );
    expect(err.problems).toEqual(
      expect.arrayContaining([
        { key: 'status.port', source: 'from FULCRUM_STATUS__PORT', message: '"http" is not a number' },
        { key: 'nats.url', source: 'from FULCRUM_NATS__URL', message: expect.stringMatching(/nats has no key URL .*SERVERS/) },
      ]),
    );
    const err2 = configError(() => loadConfig(schema, { env: { FULCRUM_NATS__SERVERS: 'http://x/' } }));
    expect(err2.problems).toEqual([
      { key: 'nats.servers[0]', source: 'from FULCRUM_NATS__SERVERS', message: expect.stringMatching(/NATS server URL/) },
    ]);
  });

  it('never shows the value of a secret in an error', () => {
    const err = configError(() => loadConfig(schema, { file: file('nats:\n  user: agent\n  password: 987654321\n'), env: {} }));
    expect(err.problems).toEqual([{ key: 'nats.password', source: 'line 3', message: expect.stringMatching(/^must be text/) }]);
    expect(err.message).not.toContain('987654321');
  });

  it('checks NATS authentication as a whole', () => {
    const env = (e: Record<string, string>) => configError(() => loadConfig(schema, { env: e })).problems;
    expect(env({ FULCRUM_NATS__USER: 'agent' })).toEqual([{ key: 'nats.password', message: 'is required when nats.user is set' }]);
    expect(env({ FULCRUM_NATS__TOKEN: 't', FULCRUM_NATS__CREDS_FILE: '/etc/fulcrum/agent.creds' })).toEqual([
      { key: 'nats', message: 'use one way to authenticate, not token and credsFile' },
    ]);
  });

  it('says which line of a broken file is wrong, and when the file is missing or not a mapping', () => {
    const broken = configError(() => loadConfig(schema, { file: file('host: a\nnats: [\n'), env: {} }));
    expect(broken.problems[0]?.source).toMatch(/^line \d/);
    const dup = configError(() => loadConfig(schema, { file: file('host: a\nhost: b\n'), env: {} }));
    expect(dup.problems[0]).toMatchObject({ source: 'line 2', message: expect.stringMatching(/unique/i) });
    const missing = configError(() => loadConfig(schema, { file: join(dir, 'nope.yaml'), env: {} }));
    expect(missing.message).toBe(`invalid configuration in ${join(dir, 'nope.yaml')}:\n  (top level): cannot read the file: no such file`);
    const list = configError(() => loadConfig(schema, { file: file('- a\n- b\n'), env: {} }));
    expect(list.problems[0]?.message).toMatch(/must be a mapping/);
  });

  it('treats an empty file as no keys', () => {
    expect(loadConfig(schema, { file: file(''), env: {} }).config.status.port).toBe(9701);
  });
});
