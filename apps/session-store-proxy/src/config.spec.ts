import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from './config.js';

const base = {
  nats: { servers: ['nats://127.0.0.1:4222'] },
  store: { kind: 'session-store', id: 'shop', hosts: ['web1'], upstream: { mode: 'direct', master: { address: '10.0.0.5' } } },
};

describe('config', () => {
  it('fills the proxy defaults (TTL cap on, not durable)', () => {
    const c = configSchema.parse(base);
    expect(c.proxy).toMatchObject({ maxTtlSeconds: 86400, durable: false, maxBulkBytes: 524288, keyPrefix: '' });
    expect(c.store?.upstream).toMatchObject({ mode: 'direct', master: { address: '10.0.0.5', port: 6379 } });
  });

  it('names an allowed command the proxy cannot forward, and refuses readFromReplicas', () => {
    const r = configSchema.safeParse({
      ...base,
      store: { ...base.store, allowedCommands: ['GET', 'ZADD'], readFromReplicas: true, upstream: { ...base.store.upstream, replicas: [{ address: '10.0.0.6' }] } },
    });
    expect(r.success).toBe(false);
    const issues = r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues).toContainEqual(expect.stringMatching(/^store\.allowedCommands\.1: ZADD is not a command the proxy can forward/));
    expect(issues).toContainEqual(expect.stringMatching(/^store\.readFromReplicas: is not supported/));
  });

  it('the example config\'s commented store (replication mode) is a valid store once uncommented', () => {
    const text = readFileSync(new URL('../../../deploy/config/session-store-proxy.example.yaml', import.meta.url), 'utf8');
    // The block from "# store:" on, each line without its "# " (the mode list above it is prose).
    const lines = text.split('\n');
    const from = lines.findIndex((l) => l === '# store:');
    expect(from).toBeGreaterThan(0);
    const block = lines.slice(from).map((l) => l.replace(/^# ?/, '')).join('\n');
    const c = configSchema.parse({ ...parse(text), ...parse(block) });
    expect(c.store?.upstream).toEqual({ mode: 'replication', replicationCluster: 'redis-sessions' });
    expect(c.proxy.commandTimeoutMs).toBe(5000);
  });
});
