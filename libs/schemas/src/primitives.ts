import { BlockList, SocketAddress, isIP } from 'node:net';
import { z } from 'zod';

// Small building blocks shared by the desired-state schemas. Every duration in the contract is in
// seconds (a number, millisecond resolution), as in keepalived.conf, unless its name says otherwise.

/**
 * Canonical text of an IP address: IPv4 as is, IPv6 lowercase and compressed per RFC 5952
 * (what inet_ntop and ipvsadm print), so that two spellings of one address compare equal.
 * Returns the input unchanged when it is not an address (validation reports that separately).
 */
export function canonicalIp(address: string): string {
  const family = isIP(address);
  if (family !== 6 || address.includes('%')) return address;
  return new SocketAddress({ address, family: 'ipv6' }).address;
}

const ipMessage = (family: 4 | 6 | 0) => (s: string) => {
  if (s.includes('%')) return 'must not carry a zone id (%...): give the interface in its own field';
  const v = isIP(s);
  if (v === 0) return family === 4 ? 'is not an IPv4 address' : family === 6 ? 'is not an IPv6 address' : 'is not an IPv4 or IPv6 address';
  if (family !== 0 && v !== family) return `must be an IPv${family} address`;
  return null;
};

const ipSchema = (family: 4 | 6 | 0) => {
  const problem = ipMessage(family);
  return z
    .string()
    .check((ctx) => {
      const msg = problem(ctx.value);
      if (msg) ctx.issues.push({ code: 'custom', message: `${JSON.stringify(ctx.value)} ${msg}`, input: ctx.value });
    })
    .overwrite(canonicalIp);
};

/** An IPv4 or IPv6 address, IPv6 normalized to canonical form. */
export const ipAddr = ipSchema(0).meta({ description: 'IPv4 or IPv6 address (IPv6 is stored in canonical form)' });
export const ipv4Addr = ipSchema(4);
export const ipv6Addr = ipSchema(6);

export const ipFamily = (address: string): 4 | 6 => (isIP(address) === 6 ? 6 : 4);

/**
 * A network as an address prefix, e.g. 10.99.0.0/24 or fd00::/64. Written the way `ip addr` shows an interface
 * (10.99.0.11/24) it means the same network; it is stored as written, address canonical.
 */
export const ipPrefix = z
  .string()
  .check((ctx) => {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(ctx.value);
    const family = m ? isIP(m[1] as string) : 0;
    const max = family === 6 ? 128 : 32;
    if (!m || family === 0 || (m[1] as string).includes('%') || Number(m[2]) > max) {
      ctx.issues.push({ code: 'custom', message: `${JSON.stringify(ctx.value)} is not an address prefix such as 10.0.0.0/24 or fd00::/64`, input: ctx.value });
    }
  })
  .overwrite((s) => {
    const [address, len] = s.split('/');
    return `${canonicalIp(address as string)}/${len}`;
  })
  .meta({ description: 'an IPv4 or IPv6 network as address/prefix length' });

/** Whether `address` is inside one of `prefixes` (valid ipPrefix values). */
export function inPrefixes(address: string, prefixes: readonly string[]): boolean {
  // BlockList would match IPv4 against ::/0 (as ::ffff:a.b.c.d): keep the families apart.
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  for (const p of prefixes) {
    const [net, len] = p.split('/');
    if ((isIP(net as string) === 6 ? 'ipv6' : 'ipv4') === family) list.addSubnet(net as string, Number(len), family);
  }
  return list.check(address, family);
}

/** A TCP/UDP/SCTP port that a service listens on (1..65535). */
export const servicePort = z.number().int().min(1).max(65535);
/** A destination port; 0 only where the kernel allows it (firewall-mark services). */
export const anyPort = z.number().int().min(0).max(65535);

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/**
 * Ids and names of desired-state objects and hosts: lowercase letters, digits and '-', 1..63 characters,
 * not starting or ending with '-'. They are safe as a NATS subject token and inside a KV key.
 */
export const slug = z
  .string()
  .regex(SLUG, {
    message:
      'must be 1-63 characters of lowercase letters, digits and "-", starting and ending with a letter or digit (no dots, spaces or capitals)',
  });
export const isSlug = (s: string): boolean => SLUG.test(s);

/** A Linux interface name (IFNAMSIZ - 1 = 15 bytes, no '/', ':' is allowed for labels only, no whitespace). */
export const interfaceName = z
  .string()
  .regex(/^[^\s/:]{1,15}$/, { message: 'must be a Linux interface name: 1-15 characters without spaces, "/" or ":"' });

/** Seconds with millisecond resolution; `min` is the smallest allowed value. */
export const seconds = (min: number, max = 86_400) =>
  z
    .number()
    .min(min)
    .max(max)
    .refine((n) => Math.abs(n * 1000 - Math.round(n * 1000)) < 1e-6, { message: 'has a resolution of 1 ms (at most 3 decimals)' })
    .meta({ description: 'seconds' });

/** Seconds greater than 0 (timeouts), millisecond resolution. */
export const positiveSeconds = (max = 86_400) =>
  z
    .number()
    .positive()
    .max(max)
    .refine((n) => Math.abs(n * 1000 - Math.round(n * 1000)) < 1e-6, { message: 'has a resolution of 1 ms (at most 3 decimals)' })
    .meta({ description: 'seconds' });

/** An absolute file path (scripts, track files, CA files). */
export const absolutePath = z.string().regex(/^\/[^\0]*$/, { message: 'must be an absolute path (starting with "/")' });

/**
 * A secret (password, token). Marked writeOnly so the API never returns it; its key name is in
 * SECRET_KEYS (secrets.ts) so loggers and API reads redact it.
 */
export const secret = (maxLength = 512) =>
  z.string().min(1).max(maxLength).meta({ writeOnly: true, description: 'secret: redacted in logs and API reads' });

/** A network endpoint (address + port). */
export const endpoint = z.object({ address: ipAddr, port: servicePort }).strict();
export type Endpoint = z.infer<typeof endpoint>;

/** A network endpoint whose port may be left out (e.g. Redis 6379). */
export const endpointWithDefaultPort = (port: number) => z.object({ address: ipAddr, port: servicePort.default(port) }).strict();
