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
