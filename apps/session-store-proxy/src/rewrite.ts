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

const b = (s: string | number) => Buffer.from(String(s), 'latin1');
const upper = (x: Buffer | undefined) => (x === undefined ? '' : x.toString('latin1').toUpperCase());

export function rewrite(name: string, info: CommandInfo, clientArgs: readonly Buffer[], ctx: RewriteContext): Upstream {
  const keys = keyIndexes(name, info, clientArgs);
  const args = [...clientArgs];
  if (ctx.prefix.length > 0) {
    for (const i of keys) args[i - 1] = Buffer.concat([ctx.prefix, clientArgs[i - 1] as Buffer]);
  }
  const out: Upstream = { name, args };
  const max = ctx.maxTtlSeconds;
  if (max === null) return out;

  const capSeconds = (i: number, unit: 1 | 1000) => capAt(args, i, max * unit);
  const capAbsolute = (i: number, unit: 1 | 1000) => capAt(args, i, Math.floor((ctx.nowMs / 1000 + max) * unit));
  switch (name) {
    case 'SET':
    case 'GETEX': {
      let found = false;
      for (let i = name === 'SET' ? 2 : 1; i < args.length; i++) {
        const opt = upper(args[i]);
        if (opt === 'EX' || opt === 'PX') {
          capSeconds(i + 1, opt === 'EX' ? 1 : 1000);
          found = true;
        } else if (opt === 'EXAT' || opt === 'PXAT') {
          capAbsolute(i + 1, opt === 'EXAT' ? 1 : 1000);
          found = true;
        } else if (opt === 'KEEPTTL') {
          found = true;
        } else if (opt === 'PERSIST') {
          args.splice(i, 1, b('EX'), b(max));
          found = true;
        }
      }
      if (!found && name === 'SET') args.push(b('EX'), b(max));
      return out;
    }
    case 'SETEX':
      capSeconds(1, 1);
      return out;
    case 'PSETEX':
      capSeconds(1, 1000);
      return out;
    case 'EXPIRE':
      capSeconds(1, 1);
      return out;
    case 'PEXPIRE':
      capSeconds(1, 1000);
      return out;
    case 'EXPIREAT':
      capAbsolute(1, 1);
      return out;
    case 'PEXPIREAT':
      capAbsolute(1, 1000);
      return out;
    case 'SETNX':
      return {
        name: 'SET',
        args: [args[0] as Buffer, args[1] as Buffer, b('NX'), b('EX'), b(max)],
        setnx: true,
      };
    case 'PERSIST':
      return { name: 'EXPIRE', args: [args[0] as Buffer, b(max)] };
    default:
      if (CREATES_WITHOUT_TTL.has(name)) out.after = { name: 'EXPIRE', args: [args[0] as Buffer, b(max), b('NX')] };
      return out;
  }
}

/** Lowers the numeric argument args[i] to at most `limit`; a non-number is left for Redis to refuse. */
function capAt(args: Buffer[], i: number, limit: number): void {
  const v = args[i];
  if (v === undefined) return;
  const n = Number(v.toString('latin1'));
  if (Number.isFinite(n) && n > limit) args[i] = b(limit);
}
