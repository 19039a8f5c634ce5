import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACTED, SECRET_PATHS, isSecretKey, redactSecrets } from './secrets.js';
import { seed000, seed001 } from './testing/seeds.js';

describe('redactSecrets', () => {
  it('replaces secrets at any depth and leaves the rest', () => {
    const input = {
      kind: 'vrrp-instance',
      authentication: { type: 'pass', password: '1111' },
      upstream: { sentinels: [{ address: '10.0.0.1' }], sentinelPassword: 'x' },
      list: [{ token: 't', keep: 1 }],
      empty: { password: undefined },
    };
    const out = redactSecrets(input);
    expect(out).toEqual({
      kind: 'vrrp-instance',
      authentication: { type: 'pass', password: REDACTED },
      upstream: { sentinels: [{ address: '10.0.0.1' }], sentinelPassword: REDACTED },
      list: [{ token: REDACTED, keep: 1 }],
      empty: { password: undefined },
    });
    expect(input.authentication.password).toBe('1111');
  });

  it('the seeds carry no secret after redaction', () => {
    const text = JSON.stringify(redactSecrets([...seed000, ...seed001]));
    expect(text).not.toContain('"1111"');
    expect(text).not.toContain('"123"');
    expect(text).toContain(REDACTED);
  });

  it('survives cycles and keeps non-plain objects', () => {
    const a: Record<string, unknown> = { password: 'p' };
    a.self = a;
    const when = new Date(0);
    expect(redactSecrets({ a, when })).toEqual({ a: { password: REDACTED, self: '[circular]' }, when });
    expect(isSecretKey('password')).toBe(true);
    expect(isSecretKey('passwords')).toBe(false);
  });
});

describe('SECRET_PATHS for pino', () => {
  it('hides every secret of a logged desired object', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino({ redact: { paths: [...SECRET_PATHS] } }, sink);
    const vrrp = seed000.find((o) => o.kind === 'vrrp-instance');
    const cluster = seed001.find((o) => o.kind === 'replication-cluster');
    log.info({ object: vrrp }, 'stored');
    log.info({ change: { before: cluster, after: cluster } }, 'updated');
    log.info({ password: 'top', token: 'tok' }, 'login');
    const out = lines.join('');
    expect(out).not.toMatch(/"1111"|"123"|"top"|"tok"/);
    expect(out.match(/\[Redacted\]/g)?.length).toBe(5);
  });
});
