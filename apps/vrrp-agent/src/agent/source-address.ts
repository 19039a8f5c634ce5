import type { LinkAddress } from '@fulcrum/netlink';
import type { AddressFamily } from '@fulcrum/vrrp';

/** The address an instance's adverts go out from, or why there is none on its interface yet. */
export type SourceAddress = { readonly ok: true; readonly address: string } | { readonly ok: false; readonly why: string };

export interface SourceQuery {
  readonly instance: string;
  readonly interface: string;
  readonly family: AddressFamily;
  /** The interface's addresses now (from the link watch). */
  readonly addresses: readonly LinkAddress[];
  /** Virtual addresses of any instance: never a source, they move. */
  readonly vips: ReadonlySet<string>;
  readonly unicastPeers: readonly string[];
}

const isLinkLocal = (address: string) => /^fe[89ab]/i.test(address);

/**
 * IPv4: the interface's first address that is no VIP. IPv6: the address of the interface listed
 * among the unicast peers, else its link-local one (RFC 5798 5.1.2.1). An IPv6 address still in
 * duplicate address detection cannot be a source yet: the kernel refuses to send from it.
 */
export function sourceAddress(q: SourceQuery): SourceAddress {
  const own = q.addresses.filter((a) => !q.vips.has(a.address));
  if (q.family === 'ipv4') {
    const primary = own.find((a) => a.family === 'inet');
    if (!primary) return { ok: false, why: `interface ${q.interface} has no IPv4 address to send the adverts of ${q.instance} from` };
    return { ok: true, address: primary.address };
  }
  const v6 = own.filter((a) => a.family === 'inet6');
  const peers = new Set(q.unicastPeers.map((p) => p.toLowerCase()));
  // A peer-listed address is the one the peers expect adverts from: wait for it rather than use another.
  const primary = v6.find((a) => peers.has(a.address)) ?? v6.find((a) => isLinkLocal(a.address) && !a.tentative) ?? v6.find((a) => isLinkLocal(a.address));
  if (!primary) {
    return {
      ok: false,
      why: `interface ${q.interface} has no IPv6 link-local address to send the adverts of ${q.instance} from (link down, or addr_gen_mode none)`,
    };
  }
  if (primary.tentative) {
    return { ok: false, why: `IPv6 address ${primary.address} of interface ${q.interface} is tentative (duplicate address detection); the adverts of ${q.instance} wait for it` };
  }
  return { ok: true, address: primary.address };
}
