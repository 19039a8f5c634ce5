// What the proxy knows about each command it forwards: where its keys are (to add the key prefix), whether it
// writes (durable mode waits for a replica after it), whether a retry after a lost connection is harmless, and
// which replies are field/value lists (a map for RESP3 clients).

export type KeySpec =
  | { kind: 'first' }
  | { kind: 'all' }
  /** EVAL/EVALSHA: argument 2 is numkeys, the keys follow it. */
  | { kind: 'numkeys' };

export interface CommandInfo {
  /** Arity as Redis counts it: positive = exact, negative = at least (command name included). */
  arity: number;
  keys: KeySpec;
  write: boolean;
  /** Safe to send again after the connection was lost with the command in flight. */
  idempotent: boolean;
  /** Reply is a field/value list: a map in RESP3. */
  mapReply?: boolean;
}

const FIRST: KeySpec = { kind: 'first' };
const ALL: KeySpec = { kind: 'all' };
const read = (arity: number, keys: KeySpec = FIRST): CommandInfo => ({ arity, keys, write: false, idempotent: true });
const write = (arity: number, keys: KeySpec = FIRST, idempotent = false): CommandInfo => ({ arity, keys, write: true, idempotent });

/** Commands forwarded upstream. The allow-list may name only these (and the connection commands below). */
export const FORWARDED: Readonly<Record<string, CommandInfo>> = {
  GET: read(2),
  MGET: read(-2, ALL),
  EXISTS: read(-2, ALL),
  TTL: read(2),
  PTTL: read(2),
  TYPE: read(2),
  STRLEN: read(2),
  HGET: read(3),
  HMGET: read(-3),
  HGETALL: { ...read(2), mapReply: true },
  HEXISTS: read(3),
  HLEN: read(2),
  HKEYS: read(2),
  HVALS: read(2),
  SET: write(-3, FIRST, true),
  SETEX: write(4, FIRST, true),
  PSETEX: write(4, FIRST, true),
  SETNX: write(3),
  GETEX: write(-2),
  GETDEL: write(2),
  GETSET: write(3),
  APPEND: write(3),
  INCR: write(2),
  DECR: write(2),
  INCRBY: write(3),
  DECRBY: write(3),
  DEL: write(-2, ALL, true),
  UNLINK: write(-2, ALL, true),
  TOUCH: read(-2, ALL),
  EXPIRE: write(-3, FIRST, true),
  PEXPIRE: write(-3, FIRST, true),
  EXPIREAT: write(-3, FIRST, true),
  PEXPIREAT: write(-3, FIRST, true),
  PERSIST: write(2, FIRST, true),
  HSET: write(-4, FIRST, true),
  HMSET: write(-4, FIRST, true),
  HSETNX: write(4),
  HDEL: write(-3, FIRST, true),
  HINCRBY: write(4),
  EVAL: write(-3, { kind: 'numkeys' }),
  EVALSHA: write(-3, { kind: 'numkeys' }),
};

/** Answered by the proxy itself, per client connection; always allowed (they touch no data). */
export const CONNECTION_COMMANDS = new Set([
  'AUTH', 'HELLO', 'PING', 'ECHO', 'SELECT', 'QUIT', 'CLIENT', 'INFO', 'PROXY', 'RESET',
  'MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH',
]);

/** Hash writes that can create a key without a TTL: the proxy adds `EXPIRE key max NX` after them. */
export const CREATES_WITHOUT_TTL = new Set(['HSET', 'HMSET', 'HSETNX', 'HINCRBY', 'APPEND', 'INCR', 'DECR', 'INCRBY', 'DECRBY', 'GETSET']);

export class CommandError extends Error {
  override name = 'CommandError';
}

/** Checks arity and returns the indexes of the key arguments (0 = the command name). */
export function keyIndexes(name: string, info: CommandInfo, args: readonly Buffer[]): number[] {
  const n = args.length + 1;
  if (info.arity > 0 ? n !== info.arity : n < -info.arity) {
    throw new CommandError(`wrong number of arguments for '${name.toLowerCase()}' command`);
  }
  switch (info.keys.kind) {
    case 'first':
      return [1];
    case 'all':
      return args.map((_, i) => i + 1);
    case 'numkeys': {
      const numkeys = Number(args[1]?.toString('latin1'));
      if (!Number.isInteger(numkeys) || numkeys < 0) throw new CommandError('value is not an integer or out of range');
      if (numkeys > args.length - 2) throw new CommandError('Number of keys can\'t be greater than number of args');
      return Array.from({ length: numkeys }, (_, i) => i + 3);
    }
  }
}
