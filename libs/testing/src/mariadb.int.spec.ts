import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { startMariadb, type MariadbServer } from './mariadb.js';

describe('startMariadb', () => {
  const servers: MariadbServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.dispose()));
  });

  it('serves on a loopback port with a password user, and keeps its data across restart', async () => {
    const db = await startMariadb({ user: 'monitor', password: "it's secret" });
    servers.push(db);
    const conn = await createConnection({ host: '127.0.0.1', port: db.port, user: 'monitor', password: "it's secret" });
    await conn.query('CREATE DATABASE app');
    await conn.query('CREATE TABLE app.t (id INT PRIMARY KEY)');
    await conn.query('INSERT INTO app.t VALUES (42)');
    await conn.end();
    await expect(createConnection({ host: '127.0.0.1', port: db.port, user: 'monitor', password: 'wrong' })).rejects.toThrow(/Access denied/);

    await db.restart();
    const again = await createConnection({ host: '127.0.0.1', port: db.port, user: 'monitor', password: "it's secret" });
    const [rows] = await again.query<RowDataPacket[]>('SELECT id FROM app.t');
    expect(rows.map((r) => r.id as number)).toEqual([42]);
    await again.end();
  });

  it('takes extra server arguments, e.g. a binlog for a replication primary', async () => {
    const primary = await startMariadb({ args: ['--server-id=7', '--log-bin=mysql-bin'] });
    servers.push(primary);
    const conn = await createConnection(primary.url);
    const [rows] = await conn.query<RowDataPacket[]>('SELECT @@server_id AS id, @@log_bin AS binlog');
    expect(rows[0]).toEqual({ id: 7, binlog: 1 });
    await conn.end();
  });
});
