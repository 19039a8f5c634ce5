import { canonicalAddress } from './address.js';
import type { AddressFamily } from './address.js';
import type { VrrpAdvert, VrrpAuth, VrrpVersion } from './packet.js';

/** What the local instance expects of an advert for its VRID. */
export interface AdvertExpectation {
  readonly family: AddressFamily;
  readonly version: VrrpVersion;
  readonly vrid: number;
  /** The local advert interval; v2 adverts must carry the same (RFC 3768 7.1). */
  readonly intervalMs: number;
  /** v2 only; absent means none. */
  readonly auth?: VrrpAuth;
  /**
   * The configured virtual addresses. keepalived drops an advert whose list differs (count, or a
   * configured address missing); leave undefined to accept any list.
   */
  readonly addresses?: readonly string[];
}

export type CheckDropReason = 'vrid' | 'version' | 'auth-type' | 'auth' | 'interval' | 'addr-count' | 'addr-list';

export type CheckResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: CheckDropReason; readonly detail: string };

const OK: CheckResult = { ok: true };
const drop = (reason: CheckDropReason, detail: string): CheckResult => ({ ok: false, reason, detail });

/**
 * The instance-specific receive checks, in keepalived's order: version, v2 auth type and password
 * (constant time), v2 interval, address count and list.
 */
export function checkAdvert(advert: VrrpAdvert, expect: AdvertExpectation): CheckResult {
  if (advert.vrid !== expect.vrid) return drop('vrid', `VRID ${advert.vrid}, this instance is ${expect.vrid}`);
  if (advert.version !== expect.version) return drop('version', `VRRP version ${advert.version}, this instance runs ${expect.version}`);
  if (advert.version === 2) {
    const mine = expect.auth?.type ?? 'none';
    const theirs = advert.auth?.type ?? 'none';
    if (mine !== theirs) return drop('auth-type', `auth type ${theirs}, this instance uses ${mine}`);
    if (expect.auth?.type === 'pass' && advert.auth?.type === 'pass' && !constantTimeEqual(expect.auth.data, advert.auth.data)) {
      return drop('auth', 'wrong password');
    }
    if (advert.intervalMs !== expect.intervalMs) {
      return drop('interval', `advert interval ${advert.intervalMs / 1000} s, this instance uses ${expect.intervalMs / 1000} s`);
    }
  }
  if (expect.addresses) {
    if (advert.addresses.length !== expect.addresses.length) {
      return drop('addr-count', `${advert.addresses.length} addresses, this instance has ${expect.addresses.length}`);
    }
    const received = new Set(advert.addresses.map((a) => canonicalAddress(expect.family, a)));
    for (const a of expect.addresses) {
      if (!received.has(canonicalAddress(expect.family, a))) return drop('addr-list', `${a} is missing from the advert`);
    }
  }
  return OK;
}

/** Compares without an early exit, so the time taken does not tell how much of a password matched. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i += 1) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
