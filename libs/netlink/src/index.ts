// @fulcrum/netlink: the only place that talks to the kernel (IPVS, addresses, links, sysctls).
export type { IpvsControl, IpvsDump, IpvsOp, IpvsOpResult, NetlinkIpvsOptions } from './ipvs/control.js';
export { NetlinkIpvs, describeOp, dumpToTable } from './ipvs/control.js';
export type { DumpedDestination, DumpedService, IpvsDaemon, IpvsInfo } from './ipvs/codec.js';
export { IpvsDecodeError, canonicalDestination, canonicalService, describeDestination, describeKey, zeroStats } from './ipvs/codec.js';
export type { IpvsOpName } from './ipvs/errors.js';
export { IpvsError, IpvsUnavailableError, SchedulerUnavailableError } from './ipvs/errors.js';
export type { AddressControl, AddressOpName, InterfaceAddress, IpipTunnel, LinkState, RtnetlinkAddressesOptions } from './address/control.js';
export { AddressError, RtnetlinkAddresses } from './address/control.js';
export { NetlinkTransportError } from './genl-channel.js';
export { NetnsError } from './netns.js';
export { canonicalIp } from './ip.js';
export type { VrrpSocket, VrrpSocketOptions } from './raw/vrrp-socket.js';
export { IPPROTO_VRRP, openVrrpSocket } from './raw/vrrp-socket.js';
export type { ArpAnnouncer, ArpAnnouncerOptions } from './raw/arp-announcer.js';
export { openArpAnnouncer } from './raw/arp-announcer.js';
export { RawSocketError } from './raw/errors.js';
