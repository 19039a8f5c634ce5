import { libc } from './libc.js';

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 9: 'EBADF', 11: 'EAGAIN', 13: 'EACCES', 19: 'ENODEV', 22: 'EINVAL', 50: 'ENOTCONN',
  90: 'EMSGSIZE', 93: 'EPROTONOSUPPORT', 97: 'EAFNOSUPPORT', 99: 'EADDRNOTAVAIL', 100: 'ENETDOWN', 101: 'ENETUNREACH',
  105: 'ENOBUFS', 6: 'ENXIO', 1_000: 'EUNKNOWN',
};

/** A raw (VRRP or ARP) socket call failed; `errno` is the errno name, `op` the call. */
export class RawSocketError extends Error {
  override name = 'RawSocketError';
  constructor(
    readonly errno: string,
    readonly op: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Builds the error for a libc call that returned -1, with errno read at once. */
export function lastError(op: string, what: string): RawSocketError {
  const n = libc().errno();
  const name = ERRNO_NAMES[n] ?? `errno ${n}`;
  return new RawSocketError(name, op, `${op} ${what}: ${name} (${libc().strerror(n)})`);
}
