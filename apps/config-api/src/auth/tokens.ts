import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { z } from 'zod';

// Bearer tokens are stored only as scrypt hashes (`scrypt$N$r$p$salt$hash`, base64url). Checking one costs tens of
// milliseconds on purpose, so a token that passed once is remembered by its SHA-256 for the life of the process.

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, opts: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

export const ROLES = ['reader', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
const RANK: Record<Role, number> = { reader: 0, operator: 1, admin: 2 };
/** True when `have` may do what `need` may. */
export const roleAllows = (have: Role, need: Role): boolean => RANK[have] >= RANK[need];

const HASH = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

export const tokenEntry = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, { message: 'must be 1-64 letters, digits or . _ @ -' }),
    role: z.enum(ROLES),
    hash: z.string().regex(HASH, { message: 'must be a scrypt hash made by `config-api hash-token` (scrypt$N$r$p$salt$hash)' }),
  })
  .strict();
export type TokenEntry = z.infer<typeof tokenEntry>;
export const tokensFile = z.object({ tokens: z.array(tokenEntry) }).strict();

export interface Principal {
  name: string;
  role: Role;
}

const DEFAULT = { N: 16384, r: 8, p: 1 };
const KEYLEN = 32;

export async function hashToken(token: string, params = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(token, salt, KEYLEN, { ...params, maxmem: 256 * params.N * params.r });
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

async function matches(token: string, stored: string): Promise<boolean> {
  const m = HASH.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const expected = Buffer.from(m[5] ?? '', 'base64url');
  const got = await scrypt(token, Buffer.from(m[4] ?? '', 'base64url'), expected.length, { N, r, p, maxmem: 256 * N * r });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export class TokenVerifier {
  private readonly known = new Map<string, Principal>();

  constructor(private readonly entries: readonly TokenEntry[]) {}

  /** The principal of a token, or null when it is not one of ours. */
  async verify(token: string): Promise<Principal | null> {
    const digest = createHash('sha256').update(token).digest('base64');
    const cached = this.known.get(digest);
    if (cached) return cached;
    for (const e of this.entries) {
      if (await matches(token, e.hash)) {
        const principal = { name: e.name, role: e.role };
        this.known.set(digest, principal);
        return principal;
      }
    }
    return null;
  }
}

/** Failed authentications per client address in a sliding window; over the limit the address waits. */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds the address must wait, or 0. */
  blockedFor(address: string): number {
    const recent = this.recent(address);
    if (recent.length < this.limit) return 0;
    return Math.max(1, (recent[0] ?? 0) + this.windowMs - this.now());
  }

  fail(address: string): void {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.set(address, recent);
    // Bounded memory under a spray of addresses.
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value as string);
  }

  private recent(address: string): number[] {
    const t = this.now() - this.windowMs;
    return (this.failures.get(address) ?? []).filter((x) => x > t);
  }
}
