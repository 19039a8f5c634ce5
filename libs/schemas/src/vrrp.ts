import { z } from 'zod';
import { absolutePath, interfaceName, ipAddr, ipFamily, positiveSeconds, secret, seconds, slug } from './primitives.js';

// A VRRP instance (keepalived's vrrp_instance): which directors share which virtual IPs on which interface.
// One object describes the whole group; each director's priority is listed per host name.

export const VRRP_DEFAULTS = {
  /** keepalived's global vrrp_version: 2 (IPv6 instances always run 3). */
  version: 2 as const,
  /** advert_int: 1 s. */
  advertInterval: 1,
  /** preempt on; preempt_delay 0. */
  preempt: true,
  preemptDelay: 0,
  /** vrrp_script: interval 1 s, weight 0 (0 = fault on failure), rise 1, fall 1. */
  scriptInterval: 1,
  scriptRise: 1,
  scriptFall: 1,
} as const;

/** Priority adjustment of a tracked object: 0 = failure puts the instance in fault; else added/subtracted. */
const trackWeight = z.number().int().min(-253).max(253).default(0);

export const virtualAddress = z
  .object({
    address: ipAddr,
    /** Prefix length on the interface; absent = a host address (/32 or /128). */
    prefix: z.number().int().min(0).max(128).optional(),
    /** Interface to add it to (dev); absent = the instance's interface. */
    interface: interfaceName.optional(),
    /** Alias label, e.g. "eth0:1" (label). */
    label: z.string().regex(/^[^\s/]{1,15}$/, { message: 'must be an interface label such as eth0:1' }).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.prefix !== undefined && ipFamily(v.address) === 4 && v.prefix > 32) {
      ctx.addIssue({ code: 'custom', path: ['prefix'], message: `${v.prefix} is longer than an IPv4 prefix (at most 32)` });
    }
  });
export type VirtualAddress = z.infer<typeof virtualAddress>;

export const trackedScript = z
  .object({
    /** Name shown in events and logs. */
    name: slug,
    path: absolutePath,
    args: z.array(z.string()).default([]),
    interval: seconds(0.01).default(VRRP_DEFAULTS.scriptInterval),
    /** Seconds before the script counts as failed; absent = the interval. */
    timeout: positiveSeconds().optional(),
    weight: trackWeight,
    /** Swap the direction of the weight (reverse). */
    reverse: z.boolean().default(false),
    rise: z.number().int().min(1).max(100).default(VRRP_DEFAULTS.scriptRise),
    fall: z.number().int().min(1).max(100).default(VRRP_DEFAULTS.scriptFall),
    /** Count the script as failed until its first success (init_fail). */
    initFail: z.boolean().default(false),
  })
  .strict();
export type TrackedScript = z.infer<typeof trackedScript>;

export const vrrpInstanceObject = z
  .object({
    kind: z.literal('vrrp-instance'),
    id: slug,
    description: z.string().max(200).optional(),
    version: z.literal([2, 3]).default(VRRP_DEFAULTS.version),
    interface: interfaceName,
    virtualRouterId: z.number().int().min(1).max(255),
    /** Priority of each director, by host name: 1..254, or 255 for the address owner. */
    priorities: z.record(slug, z.number().int().min(1).max(255)),
    /** Seconds between adverts: v2 whole seconds 1..255; v3 0.01..40.95 in steps of 0.01. */
    advertInterval: z.number().positive().default(VRRP_DEFAULTS.advertInterval),
    virtualAddresses: z.array(virtualAddress).min(1, { message: 'needs at least one virtual address' }),
    /**
     * Send adverts to these addresses instead of multicast (unicast_peer); empty = multicast. List every director's
     * address: each one sends to all the others and skips its own.
     */
    unicastPeers: z.array(ipAddr).default([]),
    /** A higher-priority backup takes over from a live master (preempt / nopreempt). */
    preempt: z.boolean().default(VRRP_DEFAULTS.preempt),
    /** Seconds to wait before preempting (preempt_delay), 0..1000. */
    preemptDelay: seconds(0, 1000).default(VRRP_DEFAULTS.preemptDelay),
    /** VRRPv2 simple password (auth_type PASS), at most 8 characters. VRRPv3 has no authentication. */
    authentication: z
      .object({
        type: z.literal('pass'),
        password: secret(8).meta({ writeOnly: true, description: 'secret: at most 8 characters, sent in clear in every advert' }),
      })
      .strict()
      .optional(),
    /** Interfaces whose link state moves the instance to fault (weight 0) or changes its priority. */
    trackInterfaces: z.array(z.object({ interface: interfaceName, weight: trackWeight }).strict()).default([]),
    /** Virtual services whose quorum state moves the instance to fault (weight 0) or changes its priority. */
    trackVirtualServices: z.array(z.object({ virtualService: slug, weight: trackWeight }).strict()).default([]),
    trackScripts: z.array(trackedScript).default([]),
    /** Instances with the same sync group change state together (vrrp_sync_group). */
    syncGroup: slug.optional(),
  })
  .strict();

type Vrrp = z.infer<typeof vrrpInstanceObject>;

function checkAdvertInterval(v: Vrrp, ctx: z.RefinementCtx): void {
  const i = v.advertInterval;
  if (v.version === 2 && (!Number.isInteger(i) || i < 1 || i > 255)) {
    ctx.addIssue({
      code: 'custom',
      path: ['advertInterval'],
      message: `VRRPv2 adverts are whole seconds 1-255 (got ${i}); use version 3 for sub-second intervals`,
    });
  }
  if (v.version === 3 && (i < 0.01 || i > 40.95 || Math.abs(i * 100 - Math.round(i * 100)) > 1e-9)) {
    ctx.addIssue({ code: 'custom', path: ['advertInterval'], message: `VRRPv3 adverts are 0.01-40.95 s in steps of 0.01 s (got ${i})` });
  }
}

export const vrrpInstance = vrrpInstanceObject.superRefine((v, ctx) => {
  checkAdvertInterval(v, ctx);
  const hosts = Object.keys(v.priorities);
  if (hosts.length === 0) ctx.addIssue({ code: 'custom', path: ['priorities'], message: 'needs the priority of at least one director' });
  const families = new Set(v.virtualAddresses.map((a) => ipFamily(a.address)));
  if (families.size > 1) {
    ctx.addIssue({ code: 'custom', path: ['virtualAddresses'], message: 'mixes IPv4 and IPv6; one instance carries one address family' });
  }
  const family = ipFamily(v.virtualAddresses[0]?.address ?? '0.0.0.0');
  if (family === 6 && v.version === 2) {
    ctx.addIssue({ code: 'custom', path: ['version'], message: 'must be 3 for IPv6 virtual addresses (VRRPv2 is IPv4 only)' });
  }
  const seen = new Map<string, number>();
  v.virtualAddresses.forEach((a, i) => {
    const first = seen.get(a.address);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['virtualAddresses', i, 'address'], message: `${a.address} is already virtualAddresses[${first}]` });
    else seen.set(a.address, i);
  });
  v.unicastPeers.forEach((p, i) => {
    if (families.size === 1 && ipFamily(p) !== family) {
      ctx.addIssue({ code: 'custom', path: ['unicastPeers', i], message: `is IPv${ipFamily(p)} but the virtual addresses are IPv${family}` });
    }
  });
  if (new Set(v.unicastPeers).size !== v.unicastPeers.length) {
    ctx.addIssue({ code: 'custom', path: ['unicastPeers'], message: 'lists a peer twice' });
  }
  if (v.authentication && v.version === 3) {
    ctx.addIssue({ code: 'custom', path: ['authentication'], message: 'VRRPv3 has no authentication (RFC 5798); remove it or use version 2' });
  }
  if (!v.preempt && v.preemptDelay > 0) {
    ctx.addIssue({ code: 'custom', path: ['preemptDelay'], message: 'has no effect when preempt is false' });
  }
  const names = new Set<string>();
  v.trackScripts.forEach((s, i) => {
    if (names.has(s.name)) ctx.addIssue({ code: 'custom', path: ['trackScripts', i, 'name'], message: `"${s.name}" is used twice` });
    names.add(s.name);
    if (s.timeout !== undefined && s.timeout > s.interval) {
      ctx.addIssue({ code: 'custom', path: ['trackScripts', i, 'timeout'], message: `(${s.timeout} s) must not exceed the interval (${s.interval} s)` });
    }
  });
  for (const [host, prio] of Object.entries(v.priorities)) {
    const weighted = [...v.trackInterfaces, ...v.trackVirtualServices, ...v.trackScripts].some((t) => t.weight !== 0);
    if (prio === 255 && weighted) {
      ctx.addIssue({
        code: 'custom',
        path: ['priorities', host],
        message: 'is 255 (address owner), whose priority tracking weights cannot change; use weight 0 or a priority below 255',
      });
    }
  }
});
export type VrrpInstance = z.infer<typeof vrrpInstance>;

