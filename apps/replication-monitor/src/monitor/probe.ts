import type { NodeSample } from './sample.js';

/** One database node as the monitor sees it: MySQL/MariaDB and Redis each implement it. */
export interface NodeProbe {
  readonly node: string;
  /** Never throws: what could not be observed is in `failure`. */
  poll(): Promise<NodeSample>;
  /** Writes this monitor's heartbeat (monitor-clock ms) when this node is the primary. */
  writeHeartbeat(ts: number): Promise<void>;
  close(): Promise<void>;
}
