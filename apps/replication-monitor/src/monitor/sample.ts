// What one poll of one node observed, engine-neutral, so the assessment is the same for MySQL and Redis.

/** Why a node could not be observed. */
export type ProbeFailureKind = 'unreachable' | 'login-refused' | 'no-privilege' | 'timeout' | 'query-failed';

export interface ProbeFailure {
  kind: ProbeFailureKind;
  message: string;
}

/** Where a replica replicates from, and how its threads (or its Redis link) are doing. */
export interface ReplicaView {
  sourceHost: string;
  sourcePort: number;
  /** MySQL IO thread running / Redis master_link_status up. */
  ioRunning: boolean;
  /** MySQL SQL thread running; null for Redis (one link does both). */
  sqlRunning: boolean | null;
  /** Seconds_Behind_Master (whole seconds), or null when the server says NULL. */
  secondsBehind: number | null;
  lastIoError: string | null;
  lastSqlError: string | null;
  /** Redis: the replica's processed offset. */
  offset?: number | null;
  /** MariaDB gtid_slave_pos / MySQL Retrieved/Executed sets, binlog coordinates of the source. */
  gtid?: string | null;
  sourceLogFile?: string | null;
  readSourceLogPos?: number | null;
  execSourceLogPos?: number | null;
}

export interface NodeSample {
  node: string;
  /** Time the poll was answered (ms, the monitor's clock). */
  at: number;
  failure: ProbeFailure | null;
  /** Null when the node replicates from nobody (a primary, or a replica whose replication was removed). */
  replica: ReplicaView | null;
  readOnly?: boolean | null;
  /** The node's own position: MariaDB gtid_current_pos / MySQL gtid_executed, binlog file and position. */
  gtid?: string | null;
  binlogFile?: string | null;
  binlogPos?: number | null;
  /** Redis: master_repl_offset and connected replicas. */
  offset?: number | null;
  connectedReplicas?: number | null;
  /** Monitor-clock time (ms) stored in this monitor's heartbeat row on this node; null when absent. */
  heartbeat?: number | null;
  /** Why the heartbeat could not be read, when it could not. */
  heartbeatError?: string | null;
  /** Statements (or Redis commands) this poll sent. */
  queries: number;
}
