import { describe, expect, it } from 'vitest';
import { replicaView } from './replica-status.js';
import { classifyMysqlError, heartbeatTableSql } from './mysql-node.js';

describe('replicaView', () => {
  it('reads MariaDB / older MySQL column names', () => {
    expect(
      replicaView({
        Master_Host: '10.0.0.1',
        Master_Port: 3307,
        Slave_IO_Running: 'Yes',
        Slave_SQL_Running: 'No',
        Seconds_Behind_Master: null,
        Last_SQL_Errno: 1062,
        Last_SQL_Error: 'Duplicate entry',
        Last_IO_Error: '',
        Gtid_Slave_Pos: '0-1-42',
        Master_Log_File: 'mysql-bin.000002',
        Read_Master_Log_Pos: 1234,
        Exec_Master_Log_Pos: 1200,
      }),
    ).toEqual({
      sourceHost: '10.0.0.1',
      sourcePort: 3307,
      ioRunning: true,
      sqlRunning: false,
      secondsBehind: null,
      lastIoError: null,
      lastSqlError: '1062 Duplicate entry',
      gtid: '0-1-42',
      sourceLogFile: 'mysql-bin.000002',
      readSourceLogPos: 1234,
      execSourceLogPos: 1200,
    });
  });

  it('reads MySQL 8 Source_/Replica_ names; "Connecting" is not running; no row is null', () => {
    const v = replicaView({ Source_Host: 'db1', Source_Port: 3306, Replica_IO_Running: 'Connecting', Replica_SQL_Running: 'Yes', Seconds_Behind_Source: '7' });
    expect(v).toMatchObject({ sourceHost: 'db1', ioRunning: false, sqlRunning: true, secondsBehind: 7 });
    expect(replicaView(undefined)).toBeNull();
  });
});

describe('MySQL helpers', () => {
  it('quotes a db.table heartbeat name and refuses anything else', () => {
    expect(heartbeatTableSql('fulcrum.heartbeat')).toBe('`fulcrum`.`heartbeat`');
    expect(() => heartbeatTableSql('x; DROP TABLE y')).toThrow(/must be db\.table/);
  });

  it('names the failure: refused login, missing privilege, unreachable, timeout', () => {
    expect(classifyMysqlError({ errno: 1045, message: 'Access denied' }, '10.0.0.1', 3306, 'mon').kind).toBe('login-refused');
    expect(classifyMysqlError({ errno: 1227, message: 'need SLAVE MONITOR' }, '10.0.0.1', 3306, 'mon').message).toMatch(/mon lacks a privilege on 10\.0\.0\.1:3306/);
    expect(classifyMysqlError({ code: 'ECONNREFUSED' }, '10.0.0.1', 3306, 'mon').kind).toBe('unreachable');
    expect(classifyMysqlError({ code: 'ETIMEDOUT' }, '10.0.0.1', 3306, 'mon').kind).toBe('timeout');
  });
});
