// ipvs-agent's parts, for the benchmark (tools/bench) and other tooling; the service is bin/ipvs-agent.mjs.
export { appliedPublisher, attachDirector, followVirtualServices } from './bus-link.js';
export { applyTable, dumpAsJson } from './cli/commands.js';
export { configSchema, ROLES, STATUS_PORT, type IpvsAgentConfig, type Role } from './config.js';
export { diffTables, pendingId, type DiffOptions, type PendingRemoval, type TableDiff } from './director/diff.js';
export { effectiveTable, noOverlays, quorumUp, realServerKey, type HealthState, type Overlays } from './director/effective.js';
export { DirectorMetrics } from './director/metrics.js';
export { Reconciler, type PassResult, type ReconcilerOptions } from './director/reconciler.js';
export { setSyncDaemonRole } from './director/sync-daemon.js';
export { applyToModel, countDestinations, toModel, toTable, type TableModel } from './director/table-model.js';
export { RealServerRole, RealServerStateError, vipsServedBy, type ServedVip } from './realserver/role.js';
