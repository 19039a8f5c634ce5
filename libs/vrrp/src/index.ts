// @fulcrum/vrrp: the VRRP codec and state machine, pure (no sockets, no timers, clock injected).
//
// Wire: VRRPv2 (RFC 3768, IPv4, auth none or PASS) and VRRPv3 (RFC 5798, IPv4 and IPv6), byte for
// byte as keepalived 2.2.7 sends and accepts them (real captures in ./testing).
//
// Receive path for the agent: decodePacket (structure, TTL, checksum) -> find the instance by
// advert.vrid -> checkAdvert (version, auth, interval, addresses) -> instance.step(advertReceived).
// Every drop has a reason to count. Send path: instance actions -> encodeAdvert (IP_HDRINCL off,
// TTL/hop limit 255 set on the socket) or encodeIpv4Packet (IP_HDRINCL on, keepalived's header).
//
// Where keepalived 2.2.7 and the RFCs differ, this follows keepalived, the peer we must work with:
// - a master that hears a lower priority advert answers with its own at once (lowerPrioNoAdvert
//   turns that off), which ends a split brain within one advert of the lower master;
// - the VRRP message must be exactly as long as its address count says; no TTL check from unicast
//   peers, and a multicast socket drops unicast adverts (and the reverse); a v2 advert with another
//   interval is dropped; the address list must match when given;
// - two address owners: the one that hears the other steps down to 254 (RFC: drop the advert);
// - preempt_delay runs from the first advert of a lower priority master; `state MASTER` shortens the
//   first master-down timer; tracked weights keep the priority within 1..254.
// Where this differs from keepalived: a v3 advert with interval 0 is dropped (keepalived would make
// its master-down timer zero); a master re-arms its advert timer only when it sends; a sync group
// sends its other members to backup rather than fault (no adverts either way, see sync-group.ts).
export * from './address.js';
export * from './checksum.js';
export * from './check.js';
export * from './errors.js';
export * from './instance.js';
export * from './packet.js';
export * from './sync-group.js';
export * from './timing.js';
