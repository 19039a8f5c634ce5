import { isIP } from 'node:net';
import { ipToBytes } from '../ip.js';
import { inNetns } from '../netns.js';
import { RawSocketError, lastError } from './errors.js';
import { AF_PACKET, ETH_P_ARP, SIOCGIFHWADDR, SOCK_CLOEXEC, SOCK_DGRAM, libc } from './libc.js';

// Gratuitous ARP on one interface through an AF_PACKET socket: an ARP request whose sender and
// target are the virtual address, from this interface's MAC, to the Ethernet broadcast. Hosts that
// already have an entry for the address update it to our MAC (no flush needed on the client).

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
  /** Sends one gratuitous ARP for an IPv4 address. IPv6 (unsolicited NA) is not supported yet. */
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
  const fd = c.socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
  if (fd < 0) throw lastError('socket', `AF_PACKET for ${dev}`);
  const ifreq = Buffer.alloc(40);
  ifreq.write(dev, 0, 'latin1');
  if (c.ioctl(fd, SIOCGIFHWADDR, ifreq) !== 0) {
    const err = lastError('ioctl', `SIOCGIFHWADDR ${dev}`);
    c.close(fd);
    throw err;
  }
  const mac = Buffer.from(ifreq.subarray(18, 24));
  return new PacketArpAnnouncer(fd, dev, ifindex, mac);
}

const htons = (n: number) => ((n & 0xff) << 8) | (n >> 8);

class PacketArpAnnouncer implements ArpAnnouncer {
  private closed = false;
  private readonly to: Buffer;

  constructor(
    private readonly fd: number,
    private readonly dev: string,
    ifindex: number,
    private readonly hw: Buffer,
  ) {
    // struct sockaddr_ll to the Ethernet broadcast.
    this.to = Buffer.alloc(20);
    this.to.writeUInt16LE(AF_PACKET, 0);
    this.to.writeUInt16BE(ETH_P_ARP, 2);
    this.to.writeInt32LE(ifindex, 4);
    this.to.writeUInt16LE(ARPHRD_ETHER, 8);
    this.to[11] = 6;
    this.to.fill(0xff, 12, 18);
  }

  get interface(): string {
    return this.dev;
  }
  get mac(): string {
    return [...this.hw].map((b) => b.toString(16).padStart(2, '0')).join(':');
  }

  announce(address: string): void {
    if (this.closed) throw new RawSocketError('EBADF', 'sendto', `ARP announcer on ${this.dev} is closed`);
    if (isIP(address) !== 4) {
      throw new RawSocketError('EAFNOSUPPORT', 'sendto', `gratuitous ARP for '${address}': only IPv4 addresses are announced`);
    }
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
    if (libc().sendto(this.fd, arp, arp.length, 0, this.to, this.to.length) < 0) {
      throw lastError('sendto', `gratuitous ARP for ${address} on ${this.dev}`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc().close(this.fd);
  }
}
