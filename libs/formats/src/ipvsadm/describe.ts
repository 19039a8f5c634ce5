import type { IpvsServiceKey } from '@fulcrum/schemas';
import { formatAddressPort } from './inet.js';

/** A service as ipvsadm's listing names it: `TCP 10.0.0.1:80`, `FWM 7`, `FWM 7 IPv6`. */
export function describeServiceKey(key: IpvsServiceKey): string {
  if (key.kind === 'fwmark') return `FWM ${key.fwmark}${key.family === 'inet6' ? ' IPv6' : ''}`;
  return `${key.protocol.toUpperCase()} ${formatAddressPort(key.address, key.port)}`;
}
