// Test doubles for @fulcrum/netlink: in-memory kernels for specs that must not need root or IPVS.
export type { InMemoryIpvsOptions } from './in-memory-ipvs.js';
export { InMemoryIpvs, KERNEL_6_1_SCHEDULERS } from './in-memory-ipvs.js';
export type { InMemoryAddressesOptions } from './in-memory-addresses.js';
export { InMemoryAddresses } from './in-memory-addresses.js';
