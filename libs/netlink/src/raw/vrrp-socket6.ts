import { isIP } from 'node:net';
import { bytesToIp, ipToBytes } from '../ip.js';
import { RawSocketError, lastError } from './errors.js';
import {
  AF_INET6,
  IPPROTO_IPV6,
  IPV6_ADD_MEMBERSHIP,
  IPV6_HOPLIMIT,
  IPV6_MULTICAST_HOPS,
  IPV6_MULTICAST_IF,
  IPV6_MULTICAST_LOOP,
  IPV6_PKTINFO,
  IPV6_RECVHOPLIMIT,
  IPV6_RECVPKTINFO,
  IPV6_UNICAST_HOPS,
  MSG_DONTWAIT,
  int32,
  libc,
  sockaddrIn6,
} from './libc.js';
import { Msghdr, cmsgSpace, encodeCmsgs } from './msghdr.js';
import { setOpt } from './sockopt.js';
import { MAX_PACKET, RawVrrpSocketBase, openRawVrrp } from './vrrp-socket-base.js';
import type { ReceivedPacket, VrrpSocket, VrrpSocketOptions } from './vrrp-socket.js';

// VRRPv3 over IPv6 (RFC 5798 5.1.2): a raw ICMP-less protocol 112 socket. The kernel writes the
// IPv6 header, so the hop limit (255) is a socket option and the source address goes with every
// packet as IPV6_PKTINFO (the agent computes the checksum over it, so it must be exactly the one
// sent). On receive the header is gone; its source comes as the socket address, its destination
// and hop limit as ancillary data, which the RFC's checks need.

const GROUP = 'ff02::12';
const HOPS = 255;

export function openIpv6(opts: VrrpSocketOptions): VrrpSocket {
  const dev = opts.interface;
  const { fd, ifindex } = openRawVrrp(opts, AF_INET6, 'IPv6', (fd, ifindex) => {
    setOpt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, int32(HOPS), 'IPV6_UNICAST_HOPS', dev);
    setOpt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, int32(HOPS), 'IPV6_MULTICAST_HOPS', dev);
    setOpt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, int32(ifindex), 'IPV6_MULTICAST_IF', dev);
    setOpt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, int32(0), 'IPV6_MULTICAST_LOOP', dev);
    setOpt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, int32(1), 'IPV6_RECVPKTINFO', dev);
    setOpt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, int32(1), 'IPV6_RECVHOPLIMIT', dev);
    if (!opts.unicast) {
      const mreq = Buffer.alloc(20);
      mreq.set(ipToBytes(GROUP), 0);
      mreq.writeUInt32LE(ifindex, 16);
      setOpt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, mreq, `IPV6_ADD_MEMBERSHIP ${GROUP}`, dev);
    }
  });
  return new RawVrrpSocket6(fd, dev, ifindex);
}

class RawVrrpSocket6 extends RawVrrpSocketBase {
  readonly family = 'ipv6';
  // in6_pktinfo (20 bytes) and the hop limit (an int): room for both and a spare.
  private readonly rx = new Msghdr(Buffer.alloc(28), Buffer.alloc(MAX_PACKET), Buffer.alloc(cmsgSpace(3, 20)));
  /** readNow's own: a receive may be filling `rx` on a pool thread meanwhile. */
  private readonly rxNow = new Msghdr(Buffer.alloc(28), Buffer.alloc(MAX_PACKET), Buffer.alloc(cmsgSpace(3, 20)));

  send(packet: Uint8Array, to: string, from?: string): void {
    this.assertOpen('sendmsg');
    if (isIP(to) !== 6) throw new RawSocketError('EINVAL', 'sendmsg', `'${to}' is not an IPv6 address`);
    if (from !== undefined && isIP(from) !== 6) throw new RawSocketError('EINVAL', 'sendmsg', `source '${from}' is not an IPv6 address`);
    const dst = ipToBytes(to);
    const scoped = dst[0] === 0xff || (dst[0] === 0xfe && ((dst[1] as number) & 0xc0) === 0x80);
    const data = Buffer.alloc(packet.byteLength);
    data.set(packet);
    let control: Buffer | null = null;
    if (from !== undefined) {
      const info = Buffer.alloc(20);
      info.set(ipToBytes(from), 0);
      info.writeUInt32LE(this.ifindex, 16);
      control = encodeCmsgs([{ level: IPPROTO_IPV6, type: IPV6_PKTINFO, data: info }]);
    }
    const msg = new Msghdr(sockaddrIn6(dst, scoped ? this.ifindex : 0), data, control);
    if (libc().sendmsg(this.fd, msg.address, 0) < 0) throw lastError('sendmsg', `${to} on ${this.dev}`);
  }

  protected readOnPool(done: (packet: ReceivedPacket | null) => void): void {
    this.rx.reset();
    libc().recvmsg.async(this.fd, this.rx.address, 0, (err, n) => {
      done(err || n < 0 ? null : this.parse(this.rx, n));
    });
  }

  /** The packet recvmsg filled in; without its destination or hop limit it cannot be checked, so null. */
  private parse(rx: Msghdr, n: number): ReceivedPacket | null {
    let dstAddr: string | null = null;
    let hopLimit: number | null = null;
    for (const c of rx.cmsgs()) {
      if (c.level !== IPPROTO_IPV6) continue;
      if (c.type === IPV6_PKTINFO && c.data.length >= 16) dstAddr = bytesToIp(c.data, 'inet6');
      if (c.type === IPV6_HOPLIMIT && c.data.length >= 4) hopLimit = c.data.readInt32LE(0);
    }
    const name = rx.name as Buffer;
    if (dstAddr === null || hopLimit === null || name.readUInt16LE(0) !== AF_INET6) return null;
    return {
      family: 'ipv6',
      data: Buffer.from(rx.data.subarray(0, n)),
      srcAddr: bytesToIp(name.subarray(8, 24), 'inet6'),
      dstAddr,
      hopLimit,
    };
  }

  protected readNow(): ReceivedPacket | null {
    this.rxNow.reset();
    const n = libc().recvmsg(this.fd, this.rxNow.address, MSG_DONTWAIT);
    return n >= 0 ? this.parse(this.rxNow, n) : null;
  }
}
