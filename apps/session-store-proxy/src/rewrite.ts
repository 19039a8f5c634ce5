// Rewrites one client command into what goes upstream: the key prefix on every key argument, and the maximum
// TTL (sessions never live forever). The TTL rules, as documented in the README:
//   SET without EX/PX/EXAT/PXAT/KEEPTTL gets EX max; any longer expiry is capped to max.
//   SETEX/PSETEX/EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT/GETEX are capped; GETEX PERSIST becomes GETEX EX max.
//   SETNX becomes SET key value NX EX max (the reply is still 1/0).
//   PERSIST becomes EXPIRE key max: the key keeps living, for at most max (reply 1 when the key exists).
//   Hash and counter writes that may create a key are followed by EXPIRE key max NX (no effect on a key with a TTL).
import { CREATES_WITHOUT_TTL, type CommandInfo, keyIndexes } from './commands.js';

export interface RewriteContext {
  /** Prepended to every key; empty for none. */
  prefix: Buffer;
  maxTtlSeconds: number | null;
  nowMs: number;
}

export interface Upstream {
  name: string;
  args: Buffer[];
  /** The upstream command is SET NX standing for SETNX: its reply becomes 1/0. */
  setnx?: boolean;
  /** Sent right after on the same connection; its reply is not the client's. */
  after?: { name: string; args: Buffer[] };
}

const NUMBERS = new Map<number, Buffer>();
/** A number as an argument; the few TTL caps in use are encoded once. */
function b(n: number | string): Buffer {
  if (typeof n === 'string') return Buffer.from(n, 'latin1');
  let v = NUMBERS.get(n);
  if (v === undefined) {
    v = Buffer.from(String(n), 'latin1');
    if (NUMBERS.size < 64) NUMBERS.set(n, v);
  }
  return v;
}
const EX = Buffer.from('EX');
const NX = Buffer.from('NX');
const EXPIRE = 'EXPIRE';

/** The option word at args[i] in upper case, without allocating for the short words it can be. */
function option(x: Buffer | undefined): string {
  if (x === undefined || x.length > 8) return '';
  return x.toString('latin1').toUpperCase();
}

export function rewrite(name: string, info: CommandInfo, clientArgs: readonly Buffer[], ctx: RewriteContext): Upstream {
  const args = [...clientArgs];
  const prefix = ctx.prefix;
  if (prefix.length > 0) {
    for (const i of keyIndexes(name, info, clientArgs)) args[i - 1] = Buffer.concat([prefix, clientArgs[i - 1] as Buffer]);
  } else {
    keyIndexes(name, info, clientArgs); // checks the arity
  }
  const out: Upstream = { name, args };
  const max = ctx.maxTtlSeconds;
  if (max === null) return out;

  switch (name) {
    case 'SET':
    case 'GETEX': {
      let found = false;
      for (let i = name === 'SET' ? 2 : 1; i < args.length; i++) {
        const opt = option(args[i]);
        if (opt === 'EX' || opt === 'PX') {
          capAt(args, i + 1, max * (opt === 'EX' ? 1 : 1000));
          found = true;
        } else if (opt === 'EXAT' || opt === 'PXAT') {
          capAbsolute(args, i + 1, opt === 'EXAT' ? 1 : 1000, ctx.nowMs, max);
          found = true;
        } else if (opt === 'KEEPTTL') {
          found = true;
        } else if (opt === 'PERSIST') {
          args.splice(i, 1, EX, b(max));
          found = true;
        }
      }
      if (!found && name === 'SET') args.push(EX, b(max));
      return out;
    }
    case 'SETEX':
    case 'EXPIRE':
      capAt(args, 1, max);
      return out;
    case 'PSETEX':
    case 'PEXPIRE':
      capAt(args, 1, max * 1000);
      return out;
    case 'EXPIREAT':
      capAbsolute(args, 1, 1, ctx.nowMs, max);
      return out;
    case 'PEXPIREAT':
      capAbsolute(args, 1, 1000, ctx.nowMs, max);
      return out;
    case 'SETNX':
      return {
        name: 'SET',
        args: [args[0] as Buffer, args[1] as Buffer, NX, EX, b(max)],
        setnx: true,
      };
    case 'PERSIST':
      return { name: EXPIRE, args: [args[0] as Buffer, b(max)] };
    default:
      if (CREATES_WITHOUT_TTL.has(name)) out.after = { name: EXPIRE, args: [args[0] as Buffer, b(max), NX] };
      return out;
  }
}

/** Caps an absolute expiry (seconds or ms since the epoch, per `unit`) at now + max. */
function capAbsolute(args: Buffer[], i: number, unit: 1 | 1000, nowMs: number, max: number): void {
  capAt(args, i, Math.floor((nowMs / 1000 + max) * unit));
}

/** Lowers the numeric argument args[i] to at most `limit`; a non-number is left for Redis to refuse. */
function capAt(args: Buffer[], i: number, limit: number): void {
  const v = args[i];
  if (v === undefined) return;
  const n = Number(v.toString('latin1'));
  if (Number.isFinite(n) && n > limit) args[i] = b(limit);
}
