/** The monitor's configuration or a node's answer cannot be used. */
export class ReplicationMonitorError extends Error {
  override readonly name: string = 'ReplicationMonitorError';
}

/** A heartbeat table or key setting is not usable (bad identifier). */
export class HeartbeatConfigError extends ReplicationMonitorError {
  override readonly name = 'HeartbeatConfigError';
}
