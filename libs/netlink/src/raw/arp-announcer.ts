import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ipToBytes } from '../ip.js';
import { inNetns } from '../netns.js';
import { RawSocketError, lastError } from './errors.js';
import { AF_PACKET, ETH_P_ARP, ETH_P_IPV6, SIOCGIFHWADDR, SOCK_CLOEXEC, SOCK_DGRAM, libc } from './libc.js';

// Announcements of a virtual address on one interface through an AF_PACKET socket, so that hosts
// which already have a neighbour entry for it move the entry to our MAC (no flush on the client):
// - IPv4, gratuitous ARP: an ARP request whose sender and target are the address, from this
//   interface's MAC, to the Ethernet broadcast;
// - IPv6, unsolicited neighbour advertisement (RFC 4861 7.2.6, RFC 5798 8.2.3): to all-nodes
//   ff02::1 from the address itself, hop limit 255, Override set, Solicited clear, Router set when
//   the interface forwards IPv6 (as the kernel's own advertisements do), our MAC as the target
//   link-layer address.

const ARPHRD_ETHER = 1;
const ETH_P_IP = 0x0800;
const ARPOP_REQUEST = 1;

export interface ArpAnnouncerOptions {
  interface: string;
  /** Named network namespace to open the socket in; default the caller's. */
  netns?: string;
}

export interface ArpAnnouncer {
  readonly interface: string;
  /** This interface's hardware address, aa:bb:cc:dd:ee:ff. */
  readonly mac: string;
  /** Sends one gratuitous ARP (IPv4 address) or unsolicited neighbour advertisement (IPv6 address). */
  announce(address: string): void;
  close(): void;
}

/** Opens the announcer; needs CAP_NET_RAW. Throws RawSocketError naming the call that failed. */
export function openArpAnnouncer(opts: ArpAnnouncerOptions): ArpAnnouncer {
  const open = () => openPacket(opts.interface);
  return opts.netns ? inNetns(opts.netns, open) : open();
}

function openPacket(dev: string): ArpAnnouncer {
  const c = libc();
  if (!/^[^\s/]{1,15}$/.test(dev)) throw new RawSocketError('EINVAL', 'socket', `'${dev}' is not an interface name`);
  const ifindex = c.if_nametoindex(dev);
  if (ifindex === 0) throw new RawSocketError('ENODEV', 'if_nametoindex', `ARP announcer: no interface ${dev}`);
  // Protocol 0: this socket only sends (each frame's type is in its destination address).
  const fd = c.socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw lastError('socket', `AF_PACKET for ${dev}`);
  const ifreq = Buffer.alloc(40);
  ifreq.write(dev, 0, 'latin1');
  if (c.ioctl(fd, SIOCGIFHWADDR, ifreq) !== 0) {
    const err = lastError('ioctl', `SIOCGIFHWADDR ${dev}`);
    c.close(fd);
    throw err;
  }
  const mac = Buffer.from(ifreq.subarray(18, 24));
  let router = false;
  try {
    router = readFileSync(`/proc/sys/net/ipv6/conf/${dev}/forwarding`, 'utf8').trim() === '1';
  } catch {
    // no IPv6 on this interface: only ARP will be sent
  }
  return new PacketArpAnnouncer(fd, dev, ifindex, mac, router);
}

/** struct sockaddr_ll to one Ethernet address with one frame type. */
function linkAddress(ifindex: number, protocol: number, mac: readonly number[]): Buffer {
  const to = Buffer.alloc(20);
  to.writeUInt16LE(AF_PACKET, 0);
  to.writeUInt16BE(protocol, 2);
  to.writeInt32LE(ifindex, 4);
  to.writeUInt16LE(ARPHRD_ETHER, 8);
  to[11] = 6;
  to.set(mac, 12);
  return to;
}

const ALL_NODES = 'ff02::1';
const ICMPV6 = 58;
const NA_TYPE = 136;
const NA_ROUTER = 0x80;
const NA_OVERRIDE = 0x20;

/** The Internet checksum of an ICMPv6 message with its IPv6 pseudo-header. */
function icmp6Checksum(src: Uint8Array, dst: Uint8Array, msg: Buffer): number {
  let sum = 0;
  const add = (b: Uint8Array) => {
    for (let i = 0; i < b.length; i += 2) sum += ((b[i] as number) << 8) | (b[i + 1] ?? 0);
  };
  add(src);
  add(dst);
  sum += msg.length + ICMPV6;
  add(msg);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

class PacketArpAnnouncer implements ArpAnnouncer {
  private closed = false;
  private readonly broadcast: Buffer;
  /** 33:33 + the low 32 bits of ff02::1 (RFC 2464 7). */
  private readonly allNodes: Buffer;

  constructor(
    private readonly fd: number,
    private readonly dev: string,
    ifindex: number,
    private readonly hw: Buffer,
    private readonly router: boolean,
  ) {
    this.broadcast = linkAddress(ifindex, ETH_P_ARP, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    this.allNodes = linkAddress(ifindex, ETH_P_IPV6, [0x33, 0x33, 0, 0, 0, 1]);
  }

  get interface(): string {
    return this.dev;
  }
  get mac(): string {
    return [...this.hw].map((b) => b.toString(16).padStart(2, '0')).join(':');
  }

  announce(address: string): void {
    if (this.closed) throw new RawSocketError('EBADF', 'sendto', `ARP announcer on ${this.dev} is closed`);
    const v = isIP(address);
    if (v === 6) return this.advertise(address);
    if (v !== 4) throw new RawSocketError('EINVAL', 'sendto', `announce: '${address}' is not an IP address`);
    const ip = ipToBytes(address);
    const arp = Buffer.alloc(28);
    arp.writeUInt16BE(ARPHRD_ETHER, 0);
    arp.writeUInt16BE(ETH_P_IP, 2);
    arp[4] = 6;
    arp[5] = 4;
    arp.writeUInt16BE(ARPOP_REQUEST, 6);
    this.hw.copy(arp, 8);
    arp.set(ip, 14);
    arp.fill(0xff, 18, 24);
    arp.set(ip, 24);
    if (libc().sendto(this.fd, arp, arp.length, 0, this.broadcast, this.broadcast.length) < 0) {
      throw lastError('sendto', `gratuitous ARP for ${address} on ${this.dev}`);
    }
  }

  private advertise(address: string): void {
    const src = ipToBytes(address);
    const dst = ipToBytes(ALL_NODES);
    const na = Buffer.alloc(32);
    na[0] = NA_TYPE;
    na[4] = NA_OVERRIDE | (this.router ? NA_ROUTER : 0);
    na.set(src, 8);
    na[24] = 2; // option: target link-layer address, 8 bytes
    na[25] = 1;
    this.hw.copy(na, 26);
    na.writeUInt16BE(icmp6Checksum(src, dst, na), 2);
    const packet = Buffer.alloc(40 + na.length);
    packet[0] = 0x60;
    packet.writeUInt16BE(na.length, 4);
    packet[6] = ICMPV6;
    packet[7] = 255;
    packet.set(src, 8);
    packet.set(dst, 24);
    na.copy(packet, 40);
    if (libc().sendto(this.fd, packet, packet.length, 0, this.allNodes, this.allNodes.length) < 0) {
      throw lastError('sendto', `neighbour advertisement for ${address} on ${this.dev}`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc().close(this.fd);
  }
}
