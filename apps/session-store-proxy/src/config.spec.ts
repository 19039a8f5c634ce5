import { describe, expect, it } from 'vitest';
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
});
