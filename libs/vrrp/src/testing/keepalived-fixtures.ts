// Real adverts from keepalived 2.2.7 (Debian bookworm), captured on a veth pair between two
// network namespaces by libs/vrrp/fixtures/capture-keepalived.sh (its keepalived.conf is in that
// script). Sender 10.201.0.1 / fe80::ff:fe00:2001. IPv4 entries are whole IP packets as received on
// a raw socket; IPv6 entries are the VRRP message with the addresses and hop limit of its IPv6 header.

export interface Ipv4Capture {
  readonly family: 'ipv4';
  /** The IPv4 packet, hex. */
  readonly ip: string;
}

export interface Ipv6Capture {
  readonly family: 'ipv6';
  readonly srcAddr: string;
  readonly dstAddr: string;
  readonly hopLimit: number;
  /** The VRRP message, hex. */
  readonly vrrp: string;
}

export const KEEPALIVED_SENDER_IPV4 = '10.201.0.1';
export const KEEPALIVED_SENDER_IPV6 = 'fe80::ff:fe00:2001';
/** `auth_pass s3cr3t` of instance v2pass. */
export const KEEPALIVED_PASSWORD = 's3cr3t';

export const keepalivedCaptures = {
  /** VRRPv2, VRID 51, priority 150, 1 s, PASS "s3cr3t", 10.201.0.100 and .101. */
  v2PassAdvert: { family: 'ipv4', ip: '45c0002c00010000ff70cfc40ac90001e000001221339602010127540ac900640ac900657333637233740000' },
  /** The same instance stopping (SIGTERM): priority 0. */
  v2PassStop: { family: 'ipv4', ip: '45c0002c00040000ff70cfc10ac90001e0000012213300020101bd540ac900640ac900657333637233740000' },
  /** VRRPv2, VRID 52, priority 100, 1 s, no auth, 10.201.0.102. */
  v2NoAuthAdvert: { family: 'ipv4', ip: '45c0002800010000ff70cfc80ac90001e00000122134640100016f9a0ac900660000000000000000' },
  v2NoAuthStop: { family: 'ipv4', ip: '45c0002800040000ff70cfc50ac90001e0000012213400010001d39a0ac900660000000000000000' },
  /** VRRPv3 over IPv4, VRID 61, priority 200, 0.1 s, 10.201.0.110 and .111. */
  v3Ipv4Advert: { family: 'ipv4', ip: '45c0002400010000ff70cfcc0ac90001e0000012313dc802000a04ea0ac9006e0ac9006f' },
  v3Ipv4Stop: { family: 'ipv4', ip: '45c00024003a0000ff70cf930ac90001e0000012313d0002000accea0ac9006e0ac9006f' },
  /** VRRPv3 over IPv6, VRID 71, priority 120, 1 s, fd00:201::100. */
  v3Ipv6Advert: { family: 'ipv6', srcAddr: 'fe80::ff:fe00:2001', dstAddr: 'ff02::12', hopLimit: 255, vrrp: '3147780100643932fd000201000000000000000000000100' },
  v3Ipv6Stop: { family: 'ipv6', srcAddr: 'fe80::ff:fe00:2001', dstAddr: 'ff02::12', hopLimit: 255, vrrp: '314700010064b132fd000201000000000000000000000100' },
} as const satisfies Record<string, Ipv4Capture | Ipv6Capture>;
