import { eventually, memoryLogger } from '@fulcrum/testing';
import type { MariadbServer } from '@fulcrum/testing';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterMonitor } from '../monitor/cluster-monitor.js';
import type { HealthChange } from '../monitor/cluster-monitor.js';
import { HEARTBEAT_TABLE, MONITOR_USER, startMariadbPair, startReplication } from '../testing/mariadb-pair.js';
import type { MariadbPair } from '../testing/mariadb-pair.js';
import { HeartbeatFencedError } from './heartbeat-fenced-error.js';
import { MysqlNode } from './mysql-node.js';

// A promotion done by hand while the monitor runs: the monitor must never be the writer that makes the demoted
// primary diverge (an errant GTID the new primary never had stops it from replicating from the new primary).

const POLL_MS = 200;
const HEARTBEAT_MS = 50;
const HB_ID = 'spec-host:promotion';

let pair: MariadbPair;
beforeAll(async () => {
  pair = await startMariadbPair();
});
afterAll(() => pair?.dispose());

async function on<T>(server: MariadbServer, fn: (c: Connection) => Promise<T>): Promise<T> {
  const c = await pair.admin(server);
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const one = async (server: MariadbServer, sql: string): Promise<RowDataPacket> =>
  on(server, async (c) => ((await c.query<RowDataPacket[]>(sql))[0] as RowDataPacket[])[0] as RowDataPacket);

const heartbeatTs = async (server: MariadbServer): Promise<number | null> => {
  const row = await one(server, `SELECT MAX(ts) AS ts FROM ${HEARTBEAT_TABLE} WHERE id = '${HB_ID}'`);
  return row.ts === null ? null : Number(row.ts);
};

describe('heartbeat fence on a MariaDB promotion', () => {
  it('the heartbeat statement refuses a read-only server even for an account allowed to write there', async () => {
    // The harness's root has SUPER (it may write on a read-only server): only the statement's own check stops it.
    const root = new MysqlNode({
      node: 'db1',
      engine: 'mariadb',
      address: pair.primary.host,
      port: pair.primary.port,
      user: pair.primary.user,
      password: pair.primary.password,
      timeoutMs: 2000,
      heartbeat: { table: HEARTBEAT_TABLE, id: 'spec-host:root' },
    });
    try {
      await root.writeHeartbeat(1000);
      const before = await one(pair.primary, 'SELECT @@gtid_binlog_pos AS pos');
      await on(pair.primary, (c) => c.query('SET GLOBAL read_only = 1'));
      await expect(root.writeHeartbeat(2000)).rejects.toThrow(HeartbeatFencedError);
      expect(await one(pair.primary, 'SELECT @@gtid_binlog_pos AS pos')).toEqual(before);
      await on(pair.primary, (c) => c.query('SET GLOBAL read_only = 0'));
      await root.writeHeartbeat(3000);
      expect(await one(pair.primary, `SELECT ts FROM ${HEARTBEAT_TABLE} WHERE id = 'spec-host:root'`)).toMatchObject({ ts: 3000 });
    } finally {
      await root.close();
    }
  });

  describe('with the monitor running', () => {
    const changes: (HealthChange & { at: number })[] = [];
    let monitor: ClusterMonitor;
    beforeAll(async () => {
      const nodes = [
        { name: 'db1', address: '127.0.0.1', port: pair.primary.port, role: 'primary' as const },
        { name: 'db2', address: '127.0.0.1', port: pair.replica.port, role: 'replica' as const },
      ];
      monitor = new ClusterMonitor({
        id: 'promotion',
        shape: { nodes, lag: { warnSeconds: 2, maxSeconds: 5 } },
        probes: nodes.map(
          (n) =>
            new MysqlNode({ node: n.name, engine: 'mariadb', address: n.address, port: n.port, ...MONITOR_USER, timeoutMs: 2000, heartbeat: { table: HEARTBEAT_TABLE, id: HB_ID } }),
        ),
        intervalMs: POLL_MS,
        heartbeatMs: HEARTBEAT_MS,
        logger: memoryLogger().logger,
        onChange: (c) => changes.push({ ...c, at: Date.now() }),
      });
      monitor.start();
      await eventually('db2 replicating, lag from the heartbeat', () => monitor.current?.nodes.get('db2')?.lagSource === 'heartbeat', 20_000);
    });
    afterAll(() => monitor?.stop());

    it('fenced promotion of db2: the monitor follows it, writes its heartbeat on db2 only, and db1 replicates from db2 with GTID', async () => {
      // The DBA's order: fence db1, let db2 apply everything db1 committed, then promote db2.
      await on(pair.primary, (c) => c.query('SET GLOBAL read_only = 1'));
      const { pos } = await one(pair.primary, 'SELECT @@gtid_binlog_pos AS pos');
      await on(pair.replica, async (c) => {
        const [rows] = await c.query<RowDataPacket[]>('SELECT MASTER_GTID_WAIT(?, 20) AS waited', [pos]);
        expect(rows[0]?.waited).toBe(0);
        await c.query('STOP SLAVE');
        await c.query('RESET SLAVE ALL');
        await c.query('SET GLOBAL read_only = 0');
        await c.query('CREATE TABLE fulcrum.orders (id INT PRIMARY KEY)');
        await c.query('INSERT INTO fulcrum.orders VALUES (1), (2)');
      });
      await eventually('db2 seen as the primary, heartbeat on it', () => monitor.current?.primary === 'db2' && monitor.current.heartbeat.node === 'db2', 10_000);
      expect(changes.find((c) => c.health.node === 'db2' && c.health.role === 'primary')?.primaryWas).toBe('db1');
      const first = await heartbeatTs(pair.replica);
      await eventually('heartbeat written on db2', async () => ((await heartbeatTs(pair.replica)) ?? 0) > (first ?? 0), 10_000);

      // Re-point db1 at db2: it continues from its own binlog position, which db2 has (no errant transaction).
      await on(pair.primary, (c) => c.query('SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos'));
      await startReplication(pair.primary, pair.replica);
      const status = await eventually(
        'db1 replicating from db2',
        async () => {
          const s = await one(pair.primary, 'SHOW SLAVE STATUS');
          return s && s.Slave_IO_Running === 'Yes' && s.Slave_SQL_Running === 'Yes' ? s : undefined;
        },
        20_000,
      );
      expect(status).toMatchObject({ Last_IO_Errno: 0, Last_SQL_Errno: 0, Master_Port: pair.replica.port });
      // The table itself arrives by replication: until then the count fails.
      const count = () => one(pair.primary, 'SELECT COUNT(*) AS n FROM fulcrum.orders').then((r) => Number(r.n), () => 0);
      await eventually('db2 rows applied on db1', async () => (await count()) === 2, 10_000);
      await eventually(
        'the monitor sees db1 as db2 replica with heartbeat lag',
        () => monitor.current?.nodes.get('db1')?.role === 'replica' && monitor.current.nodes.get('db1')?.state === 'ok' && monitor.current.nodes.get('db1')?.lagSource === 'heartbeat',
        10_000,
      );
    });

    it('unfenced promotion (db1 promoted while db2 stays writable): two primaries reported, no heartbeat on either', async () => {
      const mark = changes.length;
      await on(pair.primary, async (c) => {
        await c.query('STOP SLAVE');
        await c.query('RESET SLAVE ALL');
        await c.query('SET GLOBAL read_only = 0');
      });
      const seen = await eventually(
        'two primaries reported',
        () => changes.slice(mark).find((c) => c.health.cause === 'second-primary' && c.health.role === 'primary'),
        10_000,
      );
      expect(seen.health.node).toBe('db2');
      expect(seen.health.message).toMatch(/no heartbeat: db1 also writable and replicating from nobody: two primaries/);
      const db1 = changes.slice(mark).find((c) => c.health.node === 'db1' && c.health.cause === 'second-primary');
      expect(db1?.health).toMatchObject({ state: 'broken', role: 'replica' });
      // No write begins after the round that saw two primaries: every row holds an earlier monitor time.
      await new Promise((r) => setTimeout(r, 5 * POLL_MS));
      expect(monitor.current?.heartbeat.node).toBeNull();
      for (const server of [pair.primary, pair.replica]) expect(await heartbeatTs(server)).toBeLessThan(seen.at);
    });
  });
});
