// The probes' libc: the library's one binding (../raw/libc.ts), plus the constants and errno names only the
// probes use. Everything is non-blocking except the waits (epoll_wait, poll), which run through koffi's
// async form on a worker thread, never on the event loop.
export {
  AF_INET,
  AF_INET6,
  type Libc,
  MSG_DONTWAIT,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOCK_STREAM,
  SOL_SOCKET,
  libc,
} from '../raw/libc.js';

export const SO_ERROR = 4;
export const SO_LINGER = 13;
export const SO_MARK = 36;
export const IPPROTO_ICMP = 1;
export const IPPROTO_ICMPV6 = 58;
export const EPOLL_CTL_ADD = 1;
export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const POLLIN = 0x001;
export const POLLOUT = 0x004;

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
