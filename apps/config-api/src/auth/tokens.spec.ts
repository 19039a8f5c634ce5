import { describe, expect, it } from 'vitest';
import { FailureLimiter, TokenVerifier, hashToken, roleAllows, tokenEntry } from './tokens.js';

describe('tokens', () => {
  it('stores only a salted scrypt hash that verifies the token and nothing else', async () => {
    const hash = await hashToken('s3cret-token', { N: 1024, r: 8, p: 1 });
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(hash).not.toContain('s3cret');
    expect(await hashToken('s3cret-token', { N: 1024, r: 8, p: 1 })).not.toBe(hash);
    const v = new TokenVerifier([{ name: 'alice', role: 'operator', hash }]);
    expect(await v.verify('s3cret-token')).toEqual({ name: 'alice', role: 'operator' });
    expect(await v.verify('s3cret-tokeN')).toBeNull();
    expect(tokenEntry.safeParse({ name: 'alice', role: 'admin', hash: 'plain-text' }).success).toBe(false);
  });

  it('ranks roles reader < operator < admin', () => {
    expect(roleAllows('admin', 'operator')).toBe(true);
    expect(roleAllows('operator', 'operator')).toBe(true);
    expect(roleAllows('operator', 'admin')).toBe(false);
    expect(roleAllows('reader', 'operator')).toBe(false);
  });

  it('blocks an address after the limit of failures until the window has passed', () => {
    let now = 0;
    const limiter = new FailureLimiter(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) {
      expect(limiter.blockedFor('10.0.0.1')).toBe(0);
      limiter.fail('10.0.0.1');
      now += 1000;
    }
    expect(limiter.blockedFor('10.0.0.1')).toBe(57_000);
    expect(limiter.blockedFor('10.0.0.2')).toBe(0);
    now = 60_001;
    expect(limiter.blockedFor('10.0.0.1')).toBe(0);
  });
});
