import { createConnection } from 'mysql2/promise';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { NodeSample, ProbeFailure } from '../monitor/sample.js';
import type { NodeProbe } from '../monitor/probe.js';
import { HeartbeatConfigError } from '../errors.js';
import { HeartbeatFencedError } from './heartbeat-fenced-error.js';
import { replicaView } from './replica-status.js';

export interface MysqlNodeOptions {
  node: string;
  engine: 'mysql' | 'mariadb';
  address: string;
  port: number;
  user: string;
  password?: string | undefined;
  /** Connect and per-statement budget. */
  timeoutMs: number;
  /** `db.table` of the heartbeat rows, and this monitor's row id; absent = no heartbeat. */
  heartbeat?: { table: string; id: string } | undefined;
}

/** Server errors that say "this statement does not exist here": try the older spelling. */
const ER_PARSE_ERROR = 1064;
const ER_NO_SUCH_TABLE = 1146;
const ER_BAD_DB_ERROR = 1049;
/** --read-only (or super_read_only) refused the statement. */
const ER_OPTION_PREVENTS_STATEMENT = 1290;
const LOGIN_REFUSED = new Set([1044, 1045, 1698]);
const NO_PRIVILEGE = new Set([1142, 1143, 1227, 1370]);
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST']);
const TIMEOUT = new Set(['ETIMEDOUT', 'PROTOCOL_SEQUENCE_TIMEOUT']);

interface SqlError {
  code?: string;
  errno?: number;
  message?: string;
  fatal?: boolean;
}

/** `db.table` with plain identifiers only, back-quoted: the name goes into SQL text. */
export function heartbeatTableSql(table: string): string {
  const m = /^([A-Za-z0-9_$]{1,64})\.([A-Za-z0-9_$]{1,64})$/.exec(table);
  if (!m) throw new HeartbeatConfigError(`heartbeat table ${JSON.stringify(table)} must be db.table (letters, digits, _ and $)`);
  return `\`${m[1]}\`.\`${m[2]}\``;
}

/** The DDL of the heartbeat table (created by the DBA on the primary; it replicates). */
export const heartbeatTableDdl = (table: string): string =>
  `CREATE TABLE IF NOT EXISTS ${heartbeatTableSql(table)} (id VARCHAR(128) NOT NULL PRIMARY KEY, ts BIGINT NOT NULL) ENGINE=InnoDB`;

export function classifyMysqlError(err: unknown, address: string, port: number, user: string): ProbeFailure {
  const e = (err ?? {}) as SqlError;
  const where = `${address}:${port}`;
  const msg = e.message ?? String(err);
  if (e.errno !== undefined && LOGIN_REFUSED.has(e.errno)) return { kind: 'login-refused', message: `login as ${user} refused by ${where}: ${msg}` };
  if (e.errno !== undefined && NO_PRIVILEGE.has(e.errno)) return { kind: 'no-privilege', message: `${user} lacks a privilege on ${where}: ${msg}` };
  if (e.code !== undefined && TIMEOUT.has(e.code)) return { kind: 'timeout', message: `${where} did not answer in time (${e.code})` };
  if (e.code !== undefined && UNREACHABLE.has(e.code)) return { kind: 'unreachable', message: `cannot reach ${where}: ${e.code}` };
  return { kind: 'query-failed', message: `${where}: ${msg}` };
}

/**
 * One MySQL/MariaDB node, polled over one long-lived connection (re-opened after a failure). A poll sends 4
 * statements: replica status, variables, binlog status, and the heartbeat row when a heartbeat table is set.
 */
export class MysqlNode implements NodeProbe {
  private conn: Connection | null = null;
  private connecting: Promise<Connection> | null = null;
  private replicaStatusSql = ['SHOW REPLICA STATUS', 'SHOW SLAVE STATUS'];
  private binlogStatusSql: string[];
  private readonly hbTable: string | null;
  private closed = false;

  constructor(private readonly opts: MysqlNodeOptions) {
    this.binlogStatusSql = opts.engine === 'mariadb' ? ['SHOW BINLOG STATUS', 'SHOW MASTER STATUS'] : ['SHOW BINARY LOG STATUS', 'SHOW MASTER STATUS'];
    this.hbTable = opts.heartbeat ? heartbeatTableSql(opts.heartbeat.table) : null;
  }

  get node(): string {
    return this.opts.node;
  }

  async poll(): Promise<NodeSample> {
    let queries = 0;
    const base = { node: this.opts.node, replica: null };
    try {
      const conn = await this.connection();
      const q = async (sql: string, values: unknown[] = []): Promise<RowDataPacket[]> => {
        queries += 1;
        const [rows] = await conn.query<RowDataPacket[]>({ sql, values, timeout: this.opts.timeoutMs });
        return rows;
      };
      const status = await this.firstSupported(this.replicaStatusSql, q, (s) => (this.replicaStatusSql = s));
      // MariaDB's replica status has no applied GTID position: gtid_slave_pos says it.
      const gtidVars = this.opts.engine === 'mariadb' ? '@@gtid_current_pos AS gtid, @@gtid_slave_pos AS applied' : '@@gtid_executed AS gtid, NULL AS applied';
      const [vars] = await q(`SELECT @@read_only AS ro, ${gtidVars}`);
      // Binary logging off is a plain state (empty result), not a failure.
      const binlog = await this.firstSupported(this.binlogStatusSql, q, (s) => (this.binlogStatusSql = s)).catch(() => [] as RowDataPacket[]);
      let heartbeat: number | null = null;
      let heartbeatError: string | null = null;
      if (this.hbTable && this.opts.heartbeat) {
        try {
          const [hb] = await q(`SELECT ts FROM ${this.hbTable} WHERE id = ?`, [this.opts.heartbeat.id]);
          heartbeat = hb ? Number(hb.ts) : null;
        } catch (err) {
          if ((err as SqlError).fatal) throw err;
          heartbeatError = (err as SqlError).message ?? String(err);
        }
      }
      const b = binlog[0];
      const replica = replicaView(status[0]);
      if (replica && !replica.gtid && vars?.applied) replica.gtid = String(vars.applied);
      return {
        ...base,
        at: Date.now(),
        failure: null,
        replica,
        readOnly: vars ? Number(vars.ro) === 1 : null,
        gtid: vars?.gtid ? String(vars.gtid) : null,
        binlogFile: b?.File ? String(b.File) : null,
        binlogPos: b?.Position !== undefined ? Number(b.Position) : null,
        heartbeat,
        heartbeatError,
        queries,
      };
    } catch (err) {
      if ((err as SqlError).fatal !== false) this.drop();
      return { ...base, at: Date.now(), failure: classifyMysqlError(err, this.opts.address, this.opts.port, this.opts.user), queries };
    }
  }

  /**
   * Writes this monitor's heartbeat row (on the primary): INSERT ... ON DUPLICATE KEY UPDATE, so INSERT + UPDATE
   * suffice. The statement itself checks read_only (super_read_only implies it), so the DBA's fence holds even for
   * an account that may write on a read-only server: SET GLOBAL read_only waits for running commits, so a heartbeat
   * either committed before the fence (and is in the binlog position the DBA waits for) or is not written.
   */
  async writeHeartbeat(ts: number): Promise<void> {
    if (!this.hbTable || !this.opts.heartbeat) return;
    const conn = await this.connection();
    let written: number;
    try {
      const [res] = await conn.query<ResultSetHeader>({
        sql: `INSERT INTO ${this.hbTable} (id, ts) SELECT ?, ? FROM DUAL WHERE @@global.read_only = 0 ON DUPLICATE KEY UPDATE ts = VALUES(ts)`,
        values: [this.opts.heartbeat.id, ts],
        timeout: this.opts.timeoutMs,
      });
      written = res.affectedRows;
    } catch (err) {
      if ((err as SqlError).fatal !== false) this.drop();
      const e = err as SqlError;
      if (e.errno === ER_OPTION_PREVENTS_STATEMENT) {
        throw new HeartbeatFencedError(`heartbeat not written on ${this.opts.node}: the server is read-only`, { cause: err });
      }
      if (e.errno === ER_NO_SUCH_TABLE || e.errno === ER_BAD_DB_ERROR) {
        throw new HeartbeatConfigError(`heartbeat table ${this.opts.heartbeat.table} does not exist on ${this.opts.node}: ${e.message ?? ''}`, { cause: err });
      }
      throw err;
    }
    if (written === 0) throw new HeartbeatFencedError(`heartbeat not written on ${this.opts.node}: the server is read-only`);
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.conn;
    this.conn = null;
    if (c) await c.end().catch(() => c.destroy());
  }

  private async firstSupported(
    candidates: string[],
    q: (sql: string) => Promise<RowDataPacket[]>,
    keep: (s: string[]) => void,
  ): Promise<RowDataPacket[]> {
    for (let i = 0; i < candidates.length; i++) {
      try {
        const rows = await q(candidates[i] as string);
        if (i > 0) keep(candidates.slice(i));
        return rows;
      } catch (err) {
        if ((err as SqlError).errno !== ER_PARSE_ERROR || i === candidates.length - 1) throw err;
      }
    }
    return [];
  }

  private drop(): void {
    this.conn?.destroy();
    this.conn = null;
  }

  private connection(): Promise<Connection> {
    if (this.conn) return Promise.resolve(this.conn);
    if (this.closed) return Promise.reject(Object.assign(new Error('monitor stopping'), { code: 'ECONNRESET' }));
    this.connecting ??= createConnection({
      host: this.opts.address,
      port: this.opts.port,
      user: this.opts.user,
      password: this.opts.password ?? '',
      connectTimeout: this.opts.timeoutMs,
      // Heartbeat timestamps are BIGINT: numbers, not strings.
      supportBigNumbers: true,
      bigNumberStrings: false,
    })
      .then((c) => {
        c.on('error', () => {
          if (this.conn === c) this.conn = null;
        });
        if (this.closed) {
          c.destroy();
          throw Object.assign(new Error('monitor stopping'), { code: 'ECONNRESET' });
        }
        this.conn = c;
        return c;
      })
      .finally(() => {
        this.connecting = null;
      });
    return this.connecting;
  }
}
