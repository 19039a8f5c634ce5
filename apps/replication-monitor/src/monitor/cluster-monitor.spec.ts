import { memoryLogger } from '@fulcrum/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClusterMonitor } from './cluster-monitor.js';
import type { NodeProbe } from './probe.js';
import type { NodeSample, ReplicaView } from './sample.js';

const INTERVAL_MS = 100;
const HEARTBEAT_MS = 10;

/** A node whose next poll answers `sample` (or waits while `hold` is set), and which records heartbeat writes. */
class FakeNode implements NodeProbe {
  readonly writes: number[] = [];
  hold: Promise<void> | null = null;
  constructor(
    readonly node: string,
    public sample: Omit<NodeSample, 'node' | 'at' | 'queries'>,
  ) {}
  async poll(): Promise<NodeSample> {
    if (this.hold) await this.hold;
    return { node: this.node, at: Date.now(), queries: 1, ...this.sample };
  }
  async writeHeartbeat(ts: number): Promise<void> {
    this.writes.push(ts);
  }
  async close(): Promise<void> {}
}

const fromDb1: ReplicaView = { sourceHost: '10.0.0.1', sourcePort: 3306, ioRunning: true, sqlRunning: true, secondsBehind: 0, lastIoError: null, lastSqlError: null };

describe('ClusterMonitor heartbeat fence', () => {
  let db1: FakeNode;
  let db2: FakeNode;
  let monitor: ClusterMonitor;
  beforeEach(() => {
    vi.useFakeTimers();
    db1 = new FakeNode('db1', { failure: null, replica: null, readOnly: false });
    db2 = new FakeNode('db2', { failure: null, replica: fromDb1, readOnly: false });
    monitor = new ClusterMonitor({
      id: 'c',
      shape: {
        nodes: [
          { name: 'db1', address: '10.0.0.1', port: 3306, role: 'primary' },
          { name: 'db2', address: '10.0.0.2', port: 3306, role: 'replica' },
        ],
        lag: { warnSeconds: 1, maxSeconds: 5 },
      },
      probes: [db1, db2],
      intervalMs: INTERVAL_MS,
      heartbeatMs: HEARTBEAT_MS,
      logger: memoryLogger().logger,
      onChange: () => undefined,
    });
  });
  afterEach(async () => {
    await monitor.stop();
    vi.useRealTimers();
  });

  it('writes on the primary only after a round saw it as the one writable node, and stops once two look like primaries', async () => {
    let release = () => undefined as void;
    db1.hold = new Promise<void>((r) => (release = r));
    monitor.start();
    await vi.advanceTimersByTimeAsync(5 * HEARTBEAT_MS);
    expect(db1.writes).toEqual([]);
    db1.hold = null;
    release();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(db1.writes.length).toBeGreaterThan(0);
    expect(db2.writes).toEqual([]);

    // The DBA promotes db2 without fencing db1: from the next round on, nothing is written on either.
    db2.sample = { failure: null, replica: null, readOnly: false };
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(monitor.current?.heartbeat.node).toBeNull();
    const seenAt = Date.now();
    const [before1, before2] = [db1.writes.length, db2.writes.length];
    await vi.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect([db1.writes.length, db2.writes.length]).toEqual([before1, before2]);
    expect(db1.writes.every((ts) => ts < seenAt)).toBe(true);

    // db1 fenced read-only: db2 is the primary and takes the heartbeat.
    db1.sample = { failure: null, replica: null, readOnly: true };
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(monitor.current?.primary).toBe('db2');
    expect(db2.writes.length).toBeGreaterThan(0);
    expect(db1.writes.length).toBe(before1);
  });

  it('stops writing when the rounds stall (an old view is no proof the primary is still the only one)', async () => {
    monitor.start();
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(db1.writes.length).toBeGreaterThan(0);
    let release = () => undefined as void;
    db2.hold = new Promise<void>((r) => (release = r));
    await vi.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    const stalled = db1.writes.length;
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS);
    expect(db1.writes.length).toBe(stalled);
    db2.hold = null;
    release();
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(db1.writes.length).toBeGreaterThan(stalled);
  });
});
