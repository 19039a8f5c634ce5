import { createConnection } from 'mysql2/promise';
import type { Connection } from 'mysql2/promise';
import { startMariadb } from '@fulcrum/testing';
import type { MariadbServer } from '@fulcrum/testing';
import { heartbeatTableDdl } from '../mysql/mysql-node.js';

/** The least-privileged account the monitor needs (see the README's grants). */
export const MONITOR_USER = { user: 'repmon', password: 'repmon-spec-pw' };
export const HEARTBEAT_TABLE = 'fulcrum.heartbeat';

export interface MariadbPair {
  primary: MariadbServer;
  replica: MariadbServer;
  /** Admin connections (the harness's all-privileges user). */
  admin(server: MariadbServer): Promise<Connection>;
  dispose(): Promise<void>;
}

export const adminConnection = (s: MariadbServer): Promise<Connection> =>
  createConnection({ host: s.host, port: s.port, user: s.user, password: s.password });

/** Points `replica` at `primary` (GTID, from the start of the primary's binlog) and starts it. */
export async function startReplication(replica: MariadbServer, primary: MariadbServer, delaySeconds = 0): Promise<void> {
  const c = await adminConnection(replica);
  try {
    await c.query('STOP SLAVE').catch(() => undefined);
    await c.query(
      `CHANGE MASTER TO MASTER_HOST='${primary.host}', MASTER_PORT=${primary.port}, MASTER_USER='${primary.user}', MASTER_PASSWORD='${primary.password}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_DELAY=${delaySeconds}`,
    );
    await c.query('START SLAVE');
  } finally {
    await c.end();
  }
}

/**
 * A MariaDB primary (binlog, server id 1) and a replica (server id 2) on loopback, replicating with GTIDs; the
 * heartbeat table and the monitor's least-privileged account are made on the primary and reach the replica by
 * replication.
 */
export async function startMariadbPair(): Promise<MariadbPair> {
  const common = ['--binlog-format=ROW', '--log-bin=mysql-bin', '--log-slave-updates=1'];
  const [primary, replica] = await Promise.all([
    startMariadb({ args: ['--server-id=1', ...common] }),
    startMariadb({ args: ['--server-id=2', ...common] }),
  ]);
  await startReplication(replica, primary);
  const c = await adminConnection(primary);
  try {
    await c.query('CREATE DATABASE IF NOT EXISTS fulcrum');
    await c.query(heartbeatTableDdl(HEARTBEAT_TABLE));
    await c.query(`CREATE USER IF NOT EXISTS '${MONITOR_USER.user}'@'%' IDENTIFIED BY '${MONITOR_USER.password}'`);
    await c.query(`GRANT BINLOG MONITOR, SLAVE MONITOR ON *.* TO '${MONITOR_USER.user}'@'%'`);
    await c.query(`GRANT SELECT, INSERT, UPDATE ON ${HEARTBEAT_TABLE} TO '${MONITOR_USER.user}'@'%'`);
  } finally {
    await c.end();
  }
  return {
    primary,
    replica,
    admin: adminConnection,
    dispose: async () => {
      await Promise.all([primary.dispose(), replica.dispose()]);
    },
  };
}
