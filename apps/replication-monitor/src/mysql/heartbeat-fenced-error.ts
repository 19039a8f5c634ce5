import { ReplicationMonitorError } from '../errors.js';

/** The node refused the heartbeat because it is read-only: the DBA fenced it (a demotion), not a fault. */
export class HeartbeatFencedError extends ReplicationMonitorError {
  override readonly name = 'HeartbeatFencedError';
}
