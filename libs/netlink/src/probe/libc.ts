import koffi from 'koffi';

// The libc calls the probes need, bound once on first use. Everything is non-blocking except the
// waits (epoll_wait, poll), which run through koffi's async form on a worker thread, never on the
// event loop.

export interface AsyncFn<A extends unknown[]> {
  async(...args: [...A, (err: unknown, result: number) => void]): void;
}

export interface ProbeLibc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: Uint32Array): number;
  bind(fd: number, addr: Buffer, len: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrLen: number): number;
  recvfrom(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrLen: Uint32Array): number;
  close(fd: number): number;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: Buffer): number;
  epoll_wait: ((epfd: number, events: Buffer, maxEvents: number, timeoutMs: number) => number) & AsyncFn<[number, Buffer, number, number]>;
  poll: ((fds: Buffer, n: number, timeoutMs: number) => number) & AsyncFn<[Buffer, number, number]>;
  if_nametoindex(name: string): number;
  strerror(errno: number): string;
  errno(): number;
}

let bound: ProbeLibc | null = null;

export function probeLibc(): ProbeLibc {
  if (bound) return bound;
  const lib = koffi.load('libc.so.6');
  // koffi's func() returns an untyped callable; the ProbeLibc interface above is its contract.
  const f = (proto: string) => lib.func(proto) as never;
  bound = {
    socket: f('int socket(int domain, int type, int protocol)'),
    setsockopt: f('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    getsockopt: f('int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)'),
    bind: f('int bind(int fd, const void *addr, uint32_t len)'),
    connect: f('int connect(int fd, const void *addr, uint32_t len)'),
    sendto: f('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
    recvfrom: f('intptr_t recvfrom(int fd, _Out_ void *buf, size_t len, int flags, _Out_ void *addr, _Inout_ uint32_t *addrlen)'),
    close: f('int close(int fd)'),
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
export const SOCK_STREAM = 1;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_ERROR = 4;
export const SO_LINGER = 13;
export const SO_MARK = 36;
export const IPPROTO_ICMP = 1;
export const IPPROTO_ICMPV6 = 58;
export const EPOLL_CTL_ADD = 1;
export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const POLLIN = 0x001;
export const POLLOUT = 0x004;
export const MSG_DONTWAIT = 0x40;

export const EINPROGRESS = 115;
export const EAGAIN = 11;
export const EINTR = 4;

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 4: 'EINTR', 9: 'EBADF', 11: 'EAGAIN', 13: 'EACCES', 19: 'ENODEV', 22: 'EINVAL', 23: 'ENFILE',
  24: 'EMFILE', 32: 'EPIPE', 90: 'EMSGSIZE', 93: 'EPROTONOSUPPORT', 97: 'EAFNOSUPPORT', 98: 'EADDRINUSE',
  99: 'EADDRNOTAVAIL', 100: 'ENETDOWN', 101: 'ENETUNREACH', 103: 'ECONNABORTED', 104: 'ECONNRESET', 105: 'ENOBUFS',
  110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 112: 'EHOSTDOWN', 113: 'EHOSTUNREACH', 115: 'EINPROGRESS',
};

/** The errno's symbolic name (ECONNREFUSED), as Node's error codes spell them. */
export function errnoName(n: number): string {
  return ERRNO_NAMES[n] ?? `errno ${n}`;
}
