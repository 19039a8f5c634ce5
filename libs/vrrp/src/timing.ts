import type { VrrpVersion } from './packet.js';

/** Adverts a backup may miss before it declares the master down (RFC 3768/5798 6.1). */
export const DOWN_TIMER_ADVERTS = 3;
export const PRIORITY_OWNER = 255;
export const PRIORITY_STOP = 0;

/**
 * Skew_Time in ms, in whole microseconds as keepalived computes it (VRRP_TIMER_SKEW):
 * v2 (256 - priority) / 256 s; v3 ((256 - priority) * Master_Adver_Interval) / 256.
 * `units` is 256 - priority (keepalived also uses 1 for its shortest start-up skew).
 */
export function skewMs(version: VrrpVersion, units: number, masterAdverIntervalMs: number): number {
  const micros =
    version === 3
      ? Math.floor((units * Math.floor(masterAdverIntervalMs / 10) * 625) / 16)
      : Math.floor((units * 1_000_000) / 256);
  return micros / 1000;
}

/** Master_Down_Interval in ms: 3 x Master_Adver_Interval + Skew_Time. */
export function masterDownIntervalMs(version: VrrpVersion, priority: number, masterAdverIntervalMs: number): number {
  return DOWN_TIMER_ADVERTS * masterAdverIntervalMs + skewMs(version, 256 - priority, masterAdverIntervalMs);
}

/**
 * The priority an instance advertises: its base plus the weights of its tracked objects, kept
 * within 1..254 (keepalived's vrrp_set_effective_priority); an address owner (255) never moves.
 */
export function effectivePriority(basePriority: number, trackedWeight: number): number {
  if (basePriority === PRIORITY_OWNER) return PRIORITY_OWNER;
  return Math.min(PRIORITY_OWNER - 1, Math.max(1, basePriority + trackedWeight));
}
