import { RawSocketError, lastError } from './errors.js';
import { SOCK_CLOEXEC, SOCK_RAW, SOL_SOCKET, SO_BINDTODEVICE, libc } from './libc.js';
import { interfaceIndex, setOpt, setReceiveTimeout } from './sockopt.js';
import type { ReceivedPacket, VrrpSocket, VrrpSocketOptions } from './vrrp-socket.js';

// What the IPv4 and IPv6 VRRP sockets do alike: open a raw protocol 112 socket bound to the
// interface, one receive in flight on a pool thread, and a close that waits for it. The family's
// own options, sending and packet parsing stay in vrrp-socket.ts and vrrp-socket6.ts.

export const IPPROTO_VRRP = 112;
/** The largest packet a receive takes. */
export const MAX_PACKET = 65_535;

/**
 * A raw protocol 112 socket of `domain` bound to the interface (SO_BINDTODEVICE), given the
 * family's options by `configure`, then the receive timeout. A failed option closes the socket.
 */
export function openRawVrrp(opts: VrrpSocketOptions, domain: number, label: string, configure: (fd: number, ifindex: number) => void): { fd: number; ifindex: number } {
  const dev = opts.interface;
  const ifindex = interfaceIndex(dev);
  const fd = libc().socket(domain, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_VRRP);
  if (fd < 0) throw lastError('socket', `raw ${label} protocol ${IPPROTO_VRRP} for ${dev}`);
  setOpt(fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${dev}\0`), 'SO_BINDTODEVICE', dev);
  configure(fd, ifindex);
  setReceiveTimeout(fd, opts.receiveTimeoutMs ?? 200, dev);
  return { fd, ifindex };
}

/** The open/receive/close life of a VRRP socket; a family supplies send() and the two reads. */
export abstract class RawVrrpSocketBase implements VrrpSocket {
  abstract readonly family: 'ipv4' | 'ipv6';
  private closed = false;
  private pending: Promise<ReceivedPacket | null> | null = null;

  constructor(
    protected readonly fd: number,
    protected readonly dev: string,
    readonly ifindex: number,
  ) {}

  get interface(): string {
    return this.dev;
  }

  abstract send(packet: Uint8Array, to: string, from?: string): void;

  /** Starts one blocking read on a pool thread; `done` gets the packet, or null for an error, a timeout or one that cannot be used. */
  protected abstract readOnPool(done: (packet: ReceivedPacket | null) => void): void;
  /** A non-blocking read on the calling thread; null when the kernel holds nothing. */
  protected abstract readNow(): ReceivedPacket | null;

  /** Throws the RawSocketError a send on a closed socket gets. */
  protected assertOpen(call: string): void {
    if (this.closed) throw new RawSocketError('EBADF', call, `VRRP socket on ${this.dev} is closed`);
  }

  receive(): Promise<ReceivedPacket | null> {
    if (this.closed) return Promise.resolve(null);
    // One receive at a time: a second caller shares the one in flight.
    this.pending ??= new Promise<ReceivedPacket | null>((resolve) => {
      this.readOnPool((packet) => {
        this.pending = null;
        resolve(this.closed ? null : packet);
      });
    });
    return this.pending;
  }

  receiveNow(): ReceivedPacket | null {
    return this.closed ? null : this.readNow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Closing while a pool thread sits in recv() could let the fd number be reused under it.
    if (this.pending) await this.pending;
    libc().close(this.fd);
  }
}
