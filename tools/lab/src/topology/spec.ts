import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * A declarative network topology: network namespaces ("nodes") joined by veth pairs to bridges
 * ("segments"). The bridges live in a namespace of their own (`<prefix>switch`), so a topology
 * touches nothing in the namespace that builds it and several can coexist with different prefixes.
 */
export interface TopologySpec {
  /** Namespace names are `<prefix><node>`; empty inside the lab VM, unique when sharing a host. */
  prefix: string;
  /** The L2 segments, one bridge each. */
  segments: string[];
  nodes: NodeSpec[];
}

export interface NodeSpec {
  name: string;
  interfaces: InterfaceSpec[];
  /** Extra addresses on lo, e.g. a DR real server's VIP as `10.99.0.100/32`. */
  loopback: string[];
  routes: RouteSpec[];
  /** Set inside the namespace before its interfaces come up, e.g. `net.ipv4.ip_forward: 1`. */
  sysctls: Record<string, string | number>;
}

export interface InterfaceSpec {
  /** The interface's name inside the node, e.g. `eth0`. */
  name: string;
  segment: string;
  /** Addresses with prefix length, e.g. `10.99.0.11/24`; the first is the primary. */
  addresses: string[];
  mac?: string;
}

export interface RouteSpec {
  /** `default` or a prefix such as `10.99.1.0/24`. */
  to: string;
  via?: string;
  dev?: string;
  src?: string;
}

/** A topology spec that failed validation; `issues` name each field and what is wrong with it. */
export class TopologyError extends Error {
  override readonly name = 'TopologyError';
  constructor(
    readonly issues: string[],
    options?: ErrorOptions,
  ) {
    super(`invalid topology:\n  ${issues.join('\n  ')}`, options);
  }
}

/** The name of the namespace that holds a topology's bridges. */
export const switchNode = 'switch';

const maxIfName = 15; // IFNAMSIZ - 1

const name = (what: string) =>
  z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/i, `${what} must start with a letter and hold only letters, digits and _`)
    .max(maxIfName, `${what} must be at most ${maxIfName} characters`);

export function isCidr(value: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(value);
  if (!m) return false;
  const family = isIP(m[1] ?? '');
  const len = Number(m[2]);
  return (family === 4 && len <= 32) || (family === 6 && len <= 128);
}

const cidr = z.string().refine(isCidr, { error: (i) => `${JSON.stringify(i.input)} is not an address with a prefix length (e.g. 10.99.0.11/24)` });
const ip = z.string().refine((v) => isIP(v) !== 0, { error: (i) => `${JSON.stringify(i.input)} is not an IP address` });

const interfaceSchema = z.strictObject({
  name: name('an interface name').refine((v) => v !== 'lo', 'lo is configured through `loopback`'),
  segment: z.string(),
  addresses: z.array(cidr).default([]),
  mac: z
    .string()
    .regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i, 'a MAC address looks like 02:00:00:00:00:01')
    .optional(),
});

const routeSchema = z
  .strictObject({
    to: z.string().refine((v) => v === 'default' || isCidr(v), {
      error: (i) => `${JSON.stringify(i.input)} is neither "default" nor a prefix such as 10.99.1.0/24`,
    }),
    via: ip.optional(),
    dev: z.string().optional(),
    src: ip.optional(),
  })
  .refine((r) => r.via !== undefined || r.dev !== undefined, 'a route needs `via`, `dev` or both');

const nodeSchema = z.strictObject({
  name: name('a node name').refine((v) => v !== switchNode, `"${switchNode}" is the namespace of the bridges`),
  interfaces: z.array(interfaceSchema).default([]),
  loopback: z.array(cidr).default([]),
  routes: z.array(routeSchema).default([]),
  sysctls: z
    .record(
      z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_-]+)+$/i, 'a sysctl name looks like net.ipv4.ip_forward'),
      z.union([z.string().regex(/^[^\n'"\\]*$/, 'a sysctl value is one line without quotes'), z.number()]),
    )
    .default({}),
});

const topologySchema = z.strictObject({
  prefix: z
    .string()
    .regex(/^[a-z0-9_.-]*$/i, 'the prefix may hold only letters, digits, _ . and -')
    .max(40)
    .default(''),
  segments: z.array(name('a segment name')).min(1, 'a topology needs at least one segment'),
  nodes: z.array(nodeSchema).min(1, 'a topology needs at least one node'),
});

/** The spec as a caller writes it: everything but names and segments has a default. */
export type TopologyInput = z.input<typeof topologySchema>;

function path(p: readonly PropertyKey[]): string {
  return p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');
}

/**
 * Validates a topology and fills in the defaults. Throws TopologyError listing every problem,
 * each with the path of the field (`nodes[2].interfaces[0].segment: ...`).
 */
export function parseTopology(input: unknown): TopologySpec {
  const parsed = topologySchema.safeParse(input);
  if (!parsed.success) {
    throw new TopologyError(parsed.error.issues.map((i) => `${path(i.path) || 'topology'}: ${i.message}`));
  }
  const spec = parsed.data;
  const issues: string[] = [];
  const segments = new Set<string>();
  spec.segments.forEach((s, i) => {
    if (segments.has(s)) issues.push(`segments[${i}]: segment "${s}" is listed twice`);
    segments.add(s);
  });
  const nodes = new Set<string>();
  spec.nodes.forEach((node, n) => {
    const at = `nodes[${n}]`;
    if (nodes.has(node.name)) issues.push(`${at}.name: node "${node.name}" is listed twice`);
    nodes.add(node.name);
    const ifaces = new Set<string>();
    node.interfaces.forEach((iface, i) => {
      const here = `${at}.interfaces[${i}]`;
      if (ifaces.has(iface.name)) issues.push(`${here}.name: ${node.name} has two interfaces named "${iface.name}"`);
      ifaces.add(iface.name);
      if (!segments.has(iface.segment)) {
        issues.push(`${here}.segment: unknown segment "${iface.segment}" (segments: ${spec.segments.join(', ')})`);
      }
      const peer = switchPort(node.name, iface.name);
      if (peer.length > maxIfName) {
        issues.push(
          `${here}.name: the bridge port "${peer}" would be longer than ${maxIfName} characters; shorten the node or interface name`,
        );
      }
    });
    node.routes.forEach((route, r) => {
      if (route.dev !== undefined && route.dev !== 'lo' && !ifaces.has(route.dev)) {
        issues.push(`${at}.routes[${r}].dev: ${node.name} has no interface "${route.dev}"`);
      }
    });
  });
  if (issues.length) throw new TopologyError(issues);
  return spec;
}

/** The name of a node interface's peer, the port on the segment's bridge. */
export function switchPort(node: string, iface: string): string {
  return `${node}-${iface}`;
}

/** The namespace that holds a node. */
export function namespaceOf(spec: Pick<TopologySpec, 'prefix'>, node: string): string {
  return `${spec.prefix}${node}`;
}

/** The address part of `10.99.0.11/24`. */
export function addressOf(cidrValue: string): string {
  return cidrValue.slice(0, cidrValue.indexOf('/'));
}
