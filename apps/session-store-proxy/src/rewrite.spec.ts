import { describe, expect, it } from 'vitest';
import { FORWARDED, type CommandInfo } from './commands.js';
import { rewrite } from './rewrite.js';

const NOW = 1_700_000_000_000;
const up = (line: string, prefix = '', max: number | null = 3600) => {
  const [name = '', ...args] = line.split(' ');
  const r = rewrite(name, FORWARDED[name] as CommandInfo, args.map((a) => Buffer.from(a)), { prefix: Buffer.from(prefix), maxTtlSeconds: max, nowMs: NOW });
  return { line: [r.name, ...r.args.map(String)].join(' '), after: r.after ? [r.after.name, ...r.after.args.map(String)].join(' ') : undefined, r };
};

describe('rewrite: key prefix', () => {
  it('prefixes every key and nothing else', () => {
    expect(up('GET s1', 'app:').line).toBe('GET app:s1');
    expect(up('MGET a b c', 'app:').line).toBe('MGET app:a app:b app:c');
    expect(up('DEL a b', 'app:').line).toBe('DEL app:a app:b');
    expect(up('HSET h f v', 'app:', null).line).toBe('HSET app:h f v');
    expect(up('EVAL script 2 k1 k2 arg', 'app:').line).toBe('EVAL script 2 app:k1 app:k2 arg');
    expect(up('EVALSHA abc 0 arg', 'app:').line).toBe('EVALSHA abc 0 arg');
  });

  it('refuses a wrong arity or numkeys with the Redis message', () => {
    expect(() => up('GET')).toThrow("wrong number of arguments for 'get' command");
    expect(() => up('EVAL s 3 k1')).toThrow(/greater than number of args/);
    expect(() => up('EVAL s x k1')).toThrow(/not an integer/);
  });
});

describe('rewrite: maximum TTL', () => {
  it('gives SET without an expiry the maximum and caps a longer one', () => {
    expect(up('SET k v').line).toBe('SET k v EX 3600');
    expect(up('SET k v EX 99999').line).toBe('SET k v EX 3600');
    expect(up('SET k v px 99999999').line).toBe('SET k v px 3600000');
    expect(up('SET k v EX 60').line).toBe('SET k v EX 60');
    expect(up('SET k v KEEPTTL').line).toBe('SET k v KEEPTTL');
    expect(up(`SET k v EXAT ${NOW / 1000 + 99999}`).line).toBe(`SET k v EXAT ${NOW / 1000 + 3600}`);
  });

  it('caps SETEX, EXPIRE and friends', () => {
    expect(up('SETEX k 99999 v').line).toBe('SETEX k 3600 v');
    expect(up('PSETEX k 99999999 v').line).toBe('PSETEX k 3600000 v');
    expect(up('EXPIRE k 99999').line).toBe('EXPIRE k 3600');
    expect(up('PEXPIRE k 10').line).toBe('PEXPIRE k 10');
    expect(up('GETEX k PERSIST').line).toBe('GETEX k EX 3600');
  });

  it('turns PERSIST into the maximum TTL and SETNX into SET NX EX with a 1/0 reply', () => {
    expect(up('PERSIST k').line).toBe('EXPIRE k 3600');
    const setnx = up('SETNX k v');
    expect(setnx.line).toBe('SET k v NX EX 3600');
    expect(setnx.r.setnx).toBe(true);
  });

  it('follows a hash write with EXPIRE NX so a new hash cannot live forever', () => {
    expect(up('HSET h f v', 'p:').after).toBe('EXPIRE p:h 3600 NX');
    expect(up('HSET h f v', 'p:', null).after).toBeUndefined();
  });
});
