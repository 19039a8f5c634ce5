import koffi from 'koffi';

// The libc calls of the library's sockets (raw VRRP and ARP, and the health probes in ../probe), bound
// once on first use. Blocking calls (recv, recvmsg, epoll_wait, poll) are made through koffi's async
// form so they run on a libuv pool thread, never on the event loop.

export interface AsyncFn<A extends unknown[]> {
  async(...args: [...A, (err: unknown, result: number) => void]): void;
}

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: Uint32Array): number;
  bind(fd: number, addr: Buffer, len: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer | null, addrLen: number): number;
  recvfrom(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrLen: Uint32Array): number;
  recv: ((fd: number, buf: Buffer, len: number, flags: number) => number) & AsyncFn<[number, Buffer, number, number]>;
  /** `msg` is the address of a struct msghdr (see msghdr.ts). */
  recvmsg: ((fd: number, msg: bigint, flags: number) => number) & AsyncFn<[number, bigint, number]>;
  sendmsg(fd: number, msg: bigint, flags: number): number;
  close(fd: number): number;
  ioctl(fd: number, request: number, arg: Buffer): number;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: Buffer): number;
  epoll_wait: ((epfd: number, events: Buffer, maxEvents: number, timeoutMs: number) => number) & AsyncFn<[number, Buffer, number, number]>;
  poll: ((fds: Buffer, n: number, timeoutMs: number) => number) & AsyncFn<[Buffer, number, number]>;
  if_nametoindex(name: string): number;
  strerror(errno: number): string;
  errno(): number;
}

let bound: Libc | null = null;

export function libc(): Libc {
  if (bound) return bound;
  const lib = koffi.load('libc.so.6');
  // koffi's func() returns an untyped callable; the Libc interface above is its contract.
  const f = (proto: string) => lib.func(proto) as never;
  bound = {
    socket: f('int socket(int domain, int type, int protocol)'),
    setsockopt: f('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    getsockopt: f('int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)'),
    bind: f('int bind(int fd, const void *addr, uint32_t len)'),
    connect: f('int connect(int fd, const void *addr, uint32_t len)'),
    sendto: f('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
    recvfrom: f('intptr_t recvfrom(int fd, _Out_ void *buf, size_t len, int flags, _Out_ void *addr, _Inout_ uint32_t *addrlen)'),
    recv: f('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)'),
    recvmsg: f('intptr_t recvmsg(int fd, uintptr_t msg, int flags)'),
    sendmsg: f('intptr_t sendmsg(int fd, uintptr_t msg, int flags)'),
    close: f('int close(int fd)'),
    ioctl: f('int ioctl(int fd, unsigned long request, _Inout_ void *arg)'),
    epoll_create1: f('int epoll_create1(int flags)'),
    epoll_ctl: f('int epoll_ctl(int epfd, int op, int fd, const void *event)'),
    epoll_wait: f('int epoll_wait(int epfd, _Out_ void *events, int maxevents, int timeout)'),
    poll: f('int poll(_Inout_ void *fds, unsigned long nfds, int timeout)'),
    if_nametoindex: f('unsigned int if_nametoindex(const char *name)'),
    strerror: f('const char *strerror(int errnum)'),
    errno: () => koffi.errno(),
  };
  return bound;
}

export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_PACKET = 17;
export const SOCK_STREAM = 1;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_BINDTODEVICE = 25;
export const SO_RCVTIMEO = 20;
export const SO_RCVBUF = 8;
export const IPPROTO_IP = 0;
export const IP_TOS = 1;
export const IP_TTL = 2;
export const IP_HDRINCL = 3;
export const IP_MULTICAST_IF = 32;
export const IP_MULTICAST_TTL = 33;
export const IP_MULTICAST_LOOP = 34;
export const IP_ADD_MEMBERSHIP = 35;
export const IPPROTO_IPV6 = 41;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_ADD_MEMBERSHIP = 20;
export const IPV6_RECVPKTINFO = 49;
export const IPV6_PKTINFO = 50;
export const IPV6_RECVHOPLIMIT = 51;
export const IPV6_HOPLIMIT = 52;
export const MSG_DONTWAIT = 0x40;
export const SIOCGIFHWADDR = 0x8927;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;

export const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};

/** struct sockaddr_in for an IPv4 address (port 0: raw sockets have none). */
export function sockaddrIn(addr: Uint8Array): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  b.set(addr, 4);
  return b;
}

/** struct sockaddr_in6 (28 bytes) for an IPv6 address; scope = interface index for link-local ones. */
export function sockaddrIn6(addr: Uint8Array, scopeId = 0): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.set(addr, 8);
  b.writeUInt32LE(scopeId, 24);
  return b;
}
