import { isIP } from 'node:net';
import { ipToBytes } from '../ip.js';
import { inNetns } from '../netns.js';
import { RawSocketError, lastError } from './errors.js';
import { setOpt } from './sockopt.js';
import { IPPROTO_VRRP, MAX_PACKET, RawVrrpSocketBase, openRawVrrp } from './vrrp-socket-base.js';
import { openIpv6 } from './vrrp-socket6.js';
import {
  AF_INET,
  IPPROTO_IP,
  IP_ADD_MEMBERSHIP,
  IP_HDRINCL,
  IP_MULTICAST_IF,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IP_TOS,
  IP_TTL,
  MSG_DONTWAIT,
  int32,
  libc,
  sockaddrIn,
} from './libc.js';

// A raw IP protocol 112 socket on one interface, in the style of seesaw's HAConn: send a packet,
// receive the next one. IPv4 with IP_HDRINCL, so the agent writes the whole header (TTL 255, TOS
// 0xc0, its own primary address as source) exactly as keepalived does, and receives the whole
// packet with its header (the TTL check needs it). IPv6 (VRRPv3, RFC 5798) in vrrp-socket6.ts.

export { IPPROTO_VRRP };
const VRRP_GROUP_IPV4 = '224.0.0.18';
const VRRP_TTL = 255;

export interface VrrpSocketOptions {
  /** The interface adverts leave by and arrive on (SO_BINDTODEVICE). */
  interface: string;
  /** ipv4: VRRPv2/v3 to 224.0.0.18; ipv6: VRRPv3 to ff02::12. */
  family: 'ipv4' | 'ipv6';
  /** Adverts go to unicast peers: no multicast group membership. Default false. */
  unicast?: boolean;
  /** Named network namespace to open the socket in (/run/netns/<name>); default the caller's. */
  netns?: string;
  /** How long one receive() waits before returning null; bounds how long close() takes. Default 200 ms. */
  receiveTimeoutMs?: number;
}

/**
 * One packet for protocol 112. IPv4: the whole packet, header included (TTL and addresses are read
 * from it). IPv6: the VRRP message alone (raw IPv6 sockets never see the header), with its source,
 * destination (IPV6_PKTINFO) and hop limit (IPV6_HOPLIMIT).
 */
export type ReceivedPacket =
  | { readonly family: 'ipv4'; readonly data: Buffer }
  | { readonly family: 'ipv6'; readonly data: Buffer; readonly srcAddr: string; readonly dstAddr: string; readonly hopLimit: number };

export interface VrrpSocket {
  readonly family: 'ipv4' | 'ipv6';
  readonly interface: string;
  readonly ifindex: number;
  /**
   * Sends to `to` (the group or a unicast peer). IPv4: a whole packet, header included. IPv6: the
   * VRRP message; the kernel adds the header with hop limit 255 and `from` as its source (it must
   * be an address of the interface; RFC 5798 wants the link-local one).
   */
  send(packet: Uint8Array, to: string, from?: string): void;
  /**
   * The next packet for protocol 112 on the interface; null when none came within the receive
   * timeout or the socket is closed. Never blocks the event loop.
   */
  receive(): Promise<ReceivedPacket | null>;
  /**
   * A packet the kernel already holds for this socket, read at once on the calling thread; null
   * when there is none. For a decision that must not be taken while an advert waits unread.
   */
  receiveNow(): ReceivedPacket | null;
  /** Ends the receive loop (within the timeout) and closes the socket. Idempotent. */
  close(): Promise<void>;
}

/** Opens a VRRP socket; needs CAP_NET_RAW. Throws RawSocketError naming the call that failed. */
export function openVrrpSocket(opts: VrrpSocketOptions): VrrpSocket {
  if (opts.family !== 'ipv4' && opts.family !== 'ipv6') {
    throw new RawSocketError('EAFNOSUPPORT', 'socket', `VRRP socket on ${opts.interface}: family ${String(opts.family)} is neither ipv4 nor ipv6`);
  }
  const open = () => (opts.family === 'ipv6' ? openIpv6(opts) : openIpv4(opts));
  return opts.netns ? inNetns(opts.netns, open) : open();
}

function openIpv4(opts: VrrpSocketOptions): VrrpSocket {
  const dev = opts.interface;
  const { fd, ifindex } = openRawVrrp(opts, AF_INET, 'IPv4', (fd, ifindex) => {
    setOpt(fd, IPPROTO_IP, IP_HDRINCL, int32(1), 'IP_HDRINCL', dev);
    // With IP_HDRINCL the TTL is in our header; set the socket's too so nothing can send with less.
    setOpt(fd, IPPROTO_IP, IP_TTL, int32(VRRP_TTL), 'IP_TTL', dev);
    setOpt(fd, IPPROTO_IP, IP_MULTICAST_TTL, int32(VRRP_TTL), 'IP_MULTICAST_TTL', dev);
    setOpt(fd, IPPROTO_IP, IP_TOS, int32(0xc0), 'IP_TOS', dev);
    // Our own adverts must not come back to us.
    setOpt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, int32(0), 'IP_MULTICAST_LOOP', dev);
    const mreqn = Buffer.alloc(12);
    mreqn.set(ipToBytes(VRRP_GROUP_IPV4), 0);
    mreqn.writeInt32LE(ifindex, 8);
    setOpt(fd, IPPROTO_IP, IP_MULTICAST_IF, mreqn, 'IP_MULTICAST_IF', dev);
    if (!opts.unicast) setOpt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, mreqn, `IP_ADD_MEMBERSHIP ${VRRP_GROUP_IPV4}`, dev);
  });
  return new RawVrrpSocket(fd, dev, ifindex);
}

class RawVrrpSocket extends RawVrrpSocketBase {
  readonly family = 'ipv4';
  private readonly buf = Buffer.alloc(MAX_PACKET);
  /** readNow's own buffer: a receive may be filling `buf` on a pool thread meanwhile. */
  private readonly now = Buffer.alloc(MAX_PACKET);

  send(packet: Uint8Array, to: string): void {
    this.assertOpen('sendto');
    if (isIP(to) !== 4) throw new RawSocketError('EINVAL', 'sendto', `'${to}' is not an IPv4 address`);
    const data = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const n = libc().sendto(this.fd, data, data.length, 0, sockaddrIn(ipToBytes(to)), 16);
    if (n < 0) throw lastError('sendto', `${to} on ${this.dev}`);
  }

  protected readOnPool(done: (packet: ReceivedPacket | null) => void): void {
    libc().recv.async(this.fd, this.buf, this.buf.length, 0, (err, n) => {
      done(err || n <= 0 ? null : { family: 'ipv4', data: Buffer.from(this.buf.subarray(0, n)) });
    });
  }

  protected readNow(): ReceivedPacket | null {
    const n = libc().recv(this.fd, this.now, this.now.length, MSG_DONTWAIT);
    return n > 0 ? { family: 'ipv4', data: Buffer.from(this.now.subarray(0, n)) } : null;
  }
}
