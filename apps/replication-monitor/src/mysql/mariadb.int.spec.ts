import { memoryLogger } from '@fulcrum/testing';
import { eventually, freePort } from '@fulcrum/testing';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterMonitor } from '../monitor/cluster-monitor.js';
import type { HealthChange } from '../monitor/cluster-monitor.js';
import type { ClusterShape } from '../monitor/assess.js';
import { HEARTBEAT_TABLE, MONITOR_USER, startMariadbPair, startReplication } from '../testing/mariadb-pair.js';
import type { MariadbPair } from '../testing/mariadb-pair.js';
import { MysqlNode } from './mysql-node.js';

const POLL_MS = 200;
const HEARTBEAT_MS = 50;

let pair: MariadbPair;
beforeAll(async () => {
  pair = await startMariadbPair();
});
afterAll(() => pair?.dispose());

interface Watch {
  monitor: ClusterMonitor;
  changes: (HealthChange & { at: number })[];
}

const monitors: ClusterMonitor[] = [];
afterAll(() => Promise.all(monitors.map((m) => m.stop())));

function watch(opts: { password?: string; replicaPort?: number; lag?: ClusterShape['lag']; heartbeat?: boolean } = {}): Watch {
  const nodes = [
    { name: 'db1', address: '127.0.0.1', port: pair.primary.port, role: 'primary' as const },
    { name: 'db2', address: '127.0.0.1', port: opts.replicaPort ?? pair.replica.port, role: 'replica' as const },
  ];
  const changes: Watch['changes'] = [];
  const probes = nodes.map(
    (n) =>
      new MysqlNode({
        node: n.name,
        engine: 'mariadb',
        address: n.address,
        port: n.port,
        user: MONITOR_USER.user,
        password: opts.password ?? MONITOR_USER.password,
        timeoutMs: 1000,
        heartbeat: opts.heartbeat === false ? undefined : { table: HEARTBEAT_TABLE, id: 'spec-host:spec' },
      }),
  );
  const monitor = new ClusterMonitor({
    id: 'spec',
    shape: { nodes, lag: opts.lag ?? { warnSeconds: 0.3, maxSeconds: 1 } },
    probes,
    intervalMs: POLL_MS,
    heartbeatMs: opts.heartbeat === false ? 0 : HEARTBEAT_MS,
    logger: memoryLogger().logger,
    onChange: (c) => changes.push({ ...c, at: Date.now() }),
  });
  monitors.push(monitor);
  monitor.start();
  return { monitor, changes };
}

const last = (w: Watch, node: string) => [...w.changes].reverse().find((c) => c.health.node === node)?.health;

async function onReplica<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
  const c = await pair.admin(pair.replica);
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('MariaDB primary and replica', () => {
  let w: Watch;
  beforeAll(async () => {
    w = watch();
    // The heartbeat starts after the first round (the fence needs one): lag from it a round or two later.
    await eventually('the replica is seen replicating, lag from the heartbeat', () => last(w, 'db2')?.state === 'ok' && w.monitor.current?.nodes.get('db2')?.lagSource === 'heartbeat', 20_000);
  });
  afterAll(() => w.monitor.stop());

  it('sees the roles, both threads running and a heartbeat lag near zero, with the least-privileged account', async () => {
    const v = await w.monitor.round();
    expect(v.primary).toBe('db1');
    expect(v.nodes.get('db1')).toMatchObject({ role: 'primary', state: 'ok' });
    const r = v.nodes.get('db2');
    expect(r).toMatchObject({ role: 'replica', state: 'ok', ioRunning: true, sqlRunning: true, lagSource: 'heartbeat' });
    expect(r?.lagSeconds).toBeLessThan(0.1);
  });

  it('reads GTID positions and binlog coordinates of both nodes with only the documented grants', async () => {
    const poll = (port: number) =>
      new MysqlNode({ node: 'n', engine: 'mariadb', address: '127.0.0.1', port, ...MONITOR_USER, timeoutMs: 1000, heartbeat: { table: HEARTBEAT_TABLE, id: 'spec-host:spec' } });
    const [p, r] = [poll(pair.primary.port), poll(pair.replica.port)];
    try {
      const [ps, rs] = await Promise.all([p.poll(), r.poll()]);
      expect(ps).toMatchObject({ failure: null, replica: null, heartbeatError: null, queries: 4 });
      expect(ps.binlogFile).toMatch(/^mysql-bin\.\d+$/);
      expect(ps.gtid).toMatch(/^0-1-\d+$/);
      expect(rs.failure).toBeNull();
      expect(rs.replica).toMatchObject({ sourcePort: pair.primary.port, ioRunning: true, sqlRunning: true, sourceLogFile: ps.binlogFile });
      expect(rs.replica?.gtid).toMatch(/^0-1-\d+$/);
      expect(rs.heartbeat).toBeGreaterThan(0);
    } finally {
      await Promise.all([p.close(), r.close()]);
    }
  });

  it('reports a stopped SQL thread within one poll, with its reason, and the restart as recovered', async () => {
    const before = w.changes.length;
    const stoppedAt = await onReplica(async (c) => {
      await c.query('STOP SLAVE SQL_THREAD');
      return Date.now();
    });
    const broken = await eventually('a broken event', () => w.changes.slice(before).find((c) => c.health.node === 'db2' && c.health.state === 'broken'), 3000);
    expect(broken.health).toMatchObject({ cause: 'sql-stopped', sqlRunning: false, ioRunning: true });
    expect(broken.health.message).toMatch(/SQL thread not running/);
    // One poll interval plus the poll itself.
    expect(broken.at - stoppedAt).toBeLessThan(POLL_MS + 150);
    const mark = w.changes.length;
    await onReplica((c) => c.query('START SLAVE SQL_THREAD'));
    const back = await eventually('a recovered event', () => w.changes.slice(mark).find((c) => c.health.node === 'db2' && c.health.state === 'ok'), 5000);
    expect(back.previous?.state).not.toBe('ok');
    expect(back.health.sqlRunning).toBe(true);
  });

  it('measures lag from the heartbeat within 100 ms of the truth while the replica is held by a lock, and recovers', async () => {
    await eventually('caught up', async () => (await w.monitor.round()).nodes.get('db2')?.lagSeconds === 0, 5000);
    const lock = await pair.admin(pair.replica);
    const before = w.changes.length;
    let lockedAt = 0;
    try {
      await lock.query(`LOCK TABLES ${HEARTBEAT_TABLE} READ`);
      lockedAt = Date.now();
      const diffs: number[] = [];
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const v = await w.monitor.round();
        const truth = (Date.now() - lockedAt) / 1000;
        const measured = v.nodes.get('db2')?.lagSeconds ?? NaN;
        diffs.push(Math.abs(measured - truth));
      }
      expect(Math.max(...diffs)).toBeLessThan(0.1);
      const lagging = await eventually('a lagging event', () => w.changes.slice(before).find((c) => c.health.node === 'db2' && c.health.state === 'lagging'), 3000);
      expect(lagging.health.message).toMatch(/beyond the 1 s threshold/);
    } finally {
      await lock.query('UNLOCK TABLES');
      await lock.end();
    }
    const mark = w.changes.length;
    const back = await eventually('recovered', () => w.changes.slice(mark).find((c) => c.health.node === 'db2' && c.health.state === 'ok'), 5000);
    expect(back.health.lagSeconds).toBeLessThanOrEqual(0.3);
  });
});

describe('nodes the monitor cannot use', () => {
  it('a wrong password is a clear unreachable state naming the refused login, on every node', async () => {
    const w = watch({ password: 'wrong', heartbeat: false });
    await eventually('both nodes seen', () => last(w, 'db1') && last(w, 'db2'), 5000);
    for (const n of ['db1', 'db2']) {
      expect(last(w, n)).toMatchObject({ state: 'unreachable', cause: 'login-refused' });
      expect(last(w, n)?.message).toMatch(new RegExp(`login as ${MONITOR_USER.user} refused`));
    }
    await w.monitor.stop();
  });

  it('an unreachable node is unreachable while the others are still assessed', async () => {
    const w = watch({ replicaPort: await freePort('127.0.0.1') });
    await eventually('both nodes seen', () => last(w, 'db1') && last(w, 'db2'), 5000);
    expect(last(w, 'db2')).toMatchObject({ state: 'unreachable', cause: 'unreachable' });
    expect(last(w, 'db2')?.message).toMatch(/cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED/);
    expect(last(w, 'db1')).toMatchObject({ role: 'primary', state: 'ok' });
    await w.monitor.stop();
  });
});

describe('topology changes', () => {
  it('a replica whose replication was removed is broken (not a replica), and a promotion is a primary change', async () => {
    const w = watch({ heartbeat: false, lag: { warnSeconds: 5, maxSeconds: 30 } });
    await eventually('replica ok', () => last(w, 'db2')?.state === 'ok', 10_000);
    await onReplica(async (c) => {
      await c.query('STOP SLAVE');
      await c.query('RESET SLAVE ALL');
    });
    // db2 stays writable: a second primary beside db1 (read-only, it would be plain not-replicating).
    const notReplica = await eventually('not a replica', () => (last(w, 'db2')?.cause === 'second-primary' ? last(w, 'db2') : undefined), 3000);
    expect(notReplica).toMatchObject({ state: 'broken', role: 'replica' });
    expect(notReplica.message).toMatch(/replicates from nobody/);
    // The DBA promotes db2: db1 now replicates from it.
    await startReplication(pair.primary, pair.replica);
    const change = await eventually('primary change', () => w.changes.find((c) => c.primaryWas === 'db1'), 5000);
    expect(w.monitor.current?.primary).toBe('db2');
    expect(change.primaryWas).toBe('db1');
    await eventually('db1 seen as a replica of db2', () => last(w, 'db1')?.role === 'replica' && last(w, 'db1')?.state === 'ok', 5000);
    expect(last(w, 'db2')).toMatchObject({ role: 'primary', state: 'ok' });
    await w.monitor.stop();
  });
});
