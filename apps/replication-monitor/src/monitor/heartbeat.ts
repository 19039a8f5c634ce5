// True lag from heartbeats: the monitor writes its own clock (ms) into its row on the primary every interval and
// remembers each write the primary acknowledged. A replica's row holds the newest write it has applied; its lag is
// the age of the oldest acknowledged write it has not applied yet (0 when it has the newest). One clock writes and
// reads, so clock skew between database hosts plays no part; the resolution is the write interval.

const DEFAULT_CAPACITY = 8192;

export class HeartbeatLog {
  private readonly writes: number[] = [];

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** A write of `ts` that the primary acknowledged. */
  acknowledged(ts: number): void {
    const last = this.writes[this.writes.length - 1];
    if (last !== undefined && ts <= last) return;
    this.writes.push(ts);
    if (this.writes.length > this.capacity) this.writes.splice(0, this.writes.length - this.capacity);
  }

  get size(): number {
    return this.writes.length;
  }

  /** Forget the writes (the primary changed: the new one starts its own sequence). */
  reset(): void {
    this.writes.length = 0;
  }

  /**
   * Lag in ms of a replica whose row holds `applied` (null: no row yet), at monitor time `now`; null when no
   * write has been acknowledged yet, so nothing can be said.
   */
  lagMs(applied: number | null, now: number): number | null {
    const n = this.writes.length;
    if (n === 0) return null;
    const newest = this.writes[n - 1] as number;
    if (applied !== null && applied >= newest) return 0;
    // First acknowledged write after `applied` (binary search: writes are increasing).
    let lo = 0;
    let hi = n - 1;
    if (applied !== null) {
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((this.writes[mid] as number) > applied) hi = mid;
        else lo = mid + 1;
      }
    }
    // A row older than every remembered write (e.g. from before a restart) counts from the oldest remembered one:
    // a lower bound, which does not take a healthy replica out just after the monitor starts.
    return Math.max(0, now - (this.writes[lo] as number));
  }
}
