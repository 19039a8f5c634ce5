export { HEARTBEAT_TABLE, MONITOR_USER, adminConnection, startMariadbPair, startReplication } from './mariadb-pair.js';
export type { MariadbPair } from './mariadb-pair.js';
