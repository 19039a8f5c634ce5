import { describe, expect, it } from 'vitest';
import { HeartbeatLog } from './heartbeat.js';

describe('HeartbeatLog', () => {
  it('says nothing before the first acknowledged write', () => {
    expect(new HeartbeatLog().lagMs(1000, 2000)).toBeNull();
  });

  it('is 0 for a replica holding the newest write, else the age of the oldest write it misses', () => {
    const log = new HeartbeatLog();
    for (const t of [1000, 1100, 1200, 1300]) log.acknowledged(t);
    expect(log.lagMs(1300, 1350)).toBe(0);
    expect(log.lagMs(1100, 1350)).toBe(150);
    expect(log.lagMs(1150, 1350)).toBe(150);
    // No row yet, or one older than all remembered writes: from the oldest remembered write.
    expect(log.lagMs(null, 1350)).toBe(350);
    expect(log.lagMs(10, 1350)).toBe(350);
  });

  it('keeps a bounded number of writes and ignores out-of-order ones', () => {
    const log = new HeartbeatLog(3);
    for (const t of [1, 2, 3, 4, 2]) log.acknowledged(t);
    expect(log.size).toBe(3);
    expect(log.lagMs(2, 10)).toBe(7);
    log.reset();
    expect(log.lagMs(2, 10)).toBeNull();
  });
});
