import type { ReplicaView } from '../monitor/sample.js';

// SHOW REPLICA STATUS / SHOW SLAVE STATUS rows, normalized. MySQL 8.0.22+ names the columns Source_*/Replica_*,
// older MySQL and MariaDB (under either statement) Master_*/Slave_*; both are read.

type Row = Record<string, unknown>;

function pick(row: Row, ...names: string[]): unknown {
  for (const n of names) if (row[n] !== undefined) return row[n];
  return undefined;
}

const text = (v: unknown): string | null => (v === null || v === undefined || v === '' ? null : String(v));

function int(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** A replica status row as a ReplicaView; null for an empty result (the server replicates from nobody). */
export function replicaView(row: Row | undefined): ReplicaView | null {
  if (!row) return null;
  const host = text(pick(row, 'Source_Host', 'Master_Host'));
  if (host === null) return null;
  const ioErr = text(pick(row, 'Last_IO_Error'));
  const sqlErr = text(pick(row, 'Last_SQL_Error'));
  const ioErrNo = int(pick(row, 'Last_IO_Errno'));
  const sqlErrNo = int(pick(row, 'Last_SQL_Errno'));
  return {
    sourceHost: host,
    sourcePort: int(pick(row, 'Source_Port', 'Master_Port')) ?? 3306,
    // 'Connecting' means the IO thread is retrying a lost source: nothing flows, so it counts as not running.
    ioRunning: text(pick(row, 'Replica_IO_Running', 'Slave_IO_Running')) === 'Yes',
    sqlRunning: text(pick(row, 'Replica_SQL_Running', 'Slave_SQL_Running')) === 'Yes',
    secondsBehind: int(pick(row, 'Seconds_Behind_Source', 'Seconds_Behind_Master')),
    lastIoError: ioErr ? `${ioErrNo ?? ''} ${ioErr}`.trim() : null,
    lastSqlError: sqlErr ? `${sqlErrNo ?? ''} ${sqlErr}`.trim() : null,
    gtid: text(pick(row, 'Gtid_Slave_Pos', 'Executed_Gtid_Set')),
    sourceLogFile: text(pick(row, 'Source_Log_File', 'Master_Log_File')),
    readSourceLogPos: int(pick(row, 'Read_Source_Log_Pos', 'Read_Master_Log_Pos')),
    execSourceLogPos: int(pick(row, 'Exec_Source_Log_Pos', 'Exec_Master_Log_Pos')),
  };
}
