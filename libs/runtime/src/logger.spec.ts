import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { REDACTED, redactSecrets } from './redact.js';

/** Collects the JSON lines a logger writes. */
function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { stream, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const SECRET = 'hunter2-s3cr3t';

describe('createLogger', () => {
  it('writes JSON lines with service, host, component and the error under err', () => {
    const out = sink();
    const log = createLogger({ name: 'ipvs-agent', host: 'director1', destination: out.stream });
    log.child({ component: 'reconciler' }).error({ err: new Error('netlink said no') }, 'apply failed');
    const [rec] = out.records();
    expect(rec).toMatchObject({ service: 'ipvs-agent', host: 'director1', component: 'reconciler', msg: 'apply failed' });
    expect(rec?.err).toMatchObject({ type: 'Error', message: 'netlink said no' });
    expect(typeof rec?.time).toBe('string');
  });

  it('never writes a secret, wherever it sits in the logged object', () => {
    const out = sink();
    const log = createLogger({ name: 'vrrp-agent', destination: out.stream, level: 'trace' });
    const config = {
      host: 'director1',
      nats: { servers: ['nats://127.0.0.1:4222'], user: 'agent', password: SECRET, token: SECRET },
      vrrp: { instances: [{ name: 'vi1', authentication: { type: 'pass', password: SECRET } }] },
    };
    log.info({ config }, 'config loaded');
    log.info({ password: SECRET, token: SECRET, authPass: SECRET }, 'top level');
    log.info({ req: { headers: { authorization: `Bearer ${SECRET}`, Authorization: `Basic ${SECRET}` } } }, 'request');
    log.child({ component: 'nats', token: SECRET }).debug({ store: { upstream: { requirepass: SECRET } } }, 'connecting');
    log.info({ vrrp: { vi_1: { auth_pass: SECRET } } }, 'keepalived import');
    log.child({ nats: { user: 'agent', password: SECRET } }).warn({ err: Object.assign(new Error('auth'), { token: SECRET }) }, 'refused');

    const text = out.lines.join('\n');
    expect(out.lines).toHaveLength(6);
    expect(text).not.toContain(SECRET);
    // Redacted, not dropped: a reader can see the key was set.
    const [first] = out.records();
    expect((first?.config as typeof config).nats.password).toBe(REDACTED);
    expect((first?.config as typeof config).nats.user).toBe('agent');
  });

  it('leaves lines below the level out', () => {
    const out = sink();
    const log = createLogger({ name: 'cli', level: 'warn', destination: out.stream });
    log.info('not shown');
    log.warn('shown');
    expect(out.records().map((r) => r.msg)).toEqual(['shown']);
  });
});

describe('redactSecrets', () => {
  it('hides secret keys at any depth and in lists, keeps everything else', () => {
    const input = {
      nats: { user: 'a', password: SECRET },
      deep: { a: { b: { c: { d: { token: SECRET, port: 1 } } } } },
      list: [{ Password: SECRET }, 'plain'],
    };
    const out = redactSecrets(input);
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(out.deep.a.b.c.d).toEqual({ token: REDACTED, port: 1 });
    expect(out.list[1]).toBe('plain');
    expect(input.nats.password).toBe(SECRET);
  });
});
