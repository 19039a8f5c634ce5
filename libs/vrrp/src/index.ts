// @fulcrum/vrrp: the VRRP codec and state machine, pure (no sockets, no timers, clock injected).
//
// Wire: VRRPv2 (RFC 3768, IPv4, auth none or PASS) and VRRPv3 (RFC 5798, IPv4 and IPv6), byte for
// byte as keepalived 2.2.7 sends and accepts them (fixtures captured from it in ./testing).
// Receive path for the agent: decodePacket (structure, TTL, checksum) -> look up the instance by
// advert.vrid -> checkAdvert (version, auth, interval, addresses) -> instance.step(advertReceived).
export * from './address.js';
export * from './checksum.js';
export * from './check.js';
export * from './errors.js';
export * from './instance.js';
export * from './packet.js';
export * from './sync-group.js';
export * from './timing.js';
