import type { NodeSample, ReplicaView } from './sample.js';

// One poll round of a cluster -> the health of each node. Pure: the previous view comes in (hysteresis and the
// last known primary depend on it) and the new one goes out.

export type NodeState = 'ok' | 'lagging' | 'broken' | 'unreachable';
export type NodeRole = 'primary' | 'replica';

/** Why a node is in its state; a change of cause is a change of health worth an event. */
export type HealthCause =
  | 'running'
  | 'lag-warning'
  | 'lag-unknown'
  | 'lagging'
  | 'catching-up'
  | 'io-stopped'
  | 'sql-stopped'
  | 'not-replicating'
  | 'second-primary'
  | 'read-only'
  | 'wrong-source'
  | 'unreachable'
  | 'login-refused'
  | 'no-privilege'
  | 'timeout'
  | 'query-failed';

export interface NodeHealth {
  node: string;
  role: NodeRole;
  state: NodeState;
  cause: HealthCause;
  /** Seconds behind the primary (heartbeat when there is one, else Seconds_Behind_Master); null when unknown. */
  lagSeconds: number | null;
  /** Where lagSeconds came from. */
  lagSource: 'heartbeat' | 'seconds-behind-master' | null;
  ioRunning: boolean | null;
  sqlRunning: boolean | null;
  /** Redis: bytes of the primary's stream the replica has not processed. */
  offsetLagBytes: number | null;
  message: string;
}

/** Where the heartbeat may be written after this round: the node, or none and why not. */
export type HeartbeatTarget = { node: string; withheld: null } | { node: null; withheld: string };

export interface ClusterView {
  primary: string;
  nodes: Map<string, NodeHealth>;
  heartbeat: HeartbeatTarget;
}

export interface ClusterShape {
  nodes: readonly { name: string; address: string; port: number; role: NodeRole }[];
  lag: { warnSeconds: number; maxSeconds: number };
}

export interface AssessInput {
  cluster: ClusterShape;
  samples: ReadonlyMap<string, NodeSample>;
  previous: ClusterView | null;
  /** Heartbeat lag of a replica's sample in seconds; null when the heartbeat cannot say. */
  heartbeatLag: (sample: NodeSample) => number | null;
  /** The primary Sentinel names, when Sentinel is configured and answered. */
  sentinelPrimary?: string | null;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
const fmt = (s: number) => `${round3(s)} s`;

/** The node replicating `view` points at, matched by address and port; null when none of the cluster's. */
export function sourceNode(cluster: ClusterShape, view: ReplicaView): string | null {
  const host = view.sourceHost === 'localhost' ? '127.0.0.1' : view.sourceHost;
  return cluster.nodes.find((n) => n.address === host && n.port === view.sourcePort)?.name ?? null;
}

/**
 * The primary as observed: what Sentinel says when it is configured; else the node most replicas replicate from;
 * else the last known primary while it answers; else, when it does not, the one answering node that replicates
 * from nobody and accepts writes (a promotion of the only replica).
 */
export function observedPrimary(input: AssessInput): string {
  const { cluster, samples } = input;
  const configured = cluster.nodes.find((n) => n.role === 'primary')?.name ?? (cluster.nodes[0]?.name as string);
  const last = input.previous?.primary ?? configured;
  if (input.sentinelPrimary) return input.sentinelPrimary;
  const votes = new Map<string, number>();
  for (const s of samples.values()) {
    if (s.failure || !s.replica) continue;
    const src = sourceNode(cluster, s.replica);
    if (src) votes.set(src, (votes.get(src) ?? 0) + 1);
  }
  if (votes.size > 0) {
    const best = Math.max(...votes.values());
    const leaders = [...votes].filter(([, v]) => v === best).map(([n]) => n);
    return leaders.includes(last) ? last : (leaders[0] as string);
  }
  const writable = writableSources(samples);
  const lastSample = samples.get(last);
  // The last primary keeps the role while it answers, unless it was fenced (read-only, or now replicating) and
  // exactly one other node is writable and replicates from nobody: the DBA promoted that one.
  if (lastSample && !lastSample.failure && (writable.includes(last) || writable.length !== 1)) return last;
  return writable.length === 1 ? (writable[0] as string) : last;
}

/** Answering nodes that replicate from nobody and are not read-only: each could take writes as a primary. */
function writableSources(samples: ReadonlyMap<string, NodeSample>): string[] {
  return [...samples.values()].filter((s) => !s.failure && !s.replica && s.readOnly !== true).map((s) => s.node);
}

/**
 * The heartbeat fence: the observed primary takes the heartbeat only while this round saw it answer, replicate from
 * nobody and not read-only, and no other node of the cluster writable and replicating from nobody. A write on a
 * node the DBA is demoting would be a transaction the promoted node never had (an errant GTID) and would stop the
 * demoted node from replicating from it; so when in doubt, no heartbeat (lag then falls back to the replicas' own
 * figure).
 */
export function heartbeatTarget(primary: string, samples: ReadonlyMap<string, NodeSample>): HeartbeatTarget {
  const s = samples.get(primary);
  if (!s) return { node: null, withheld: `${primary} (the primary) was not polled` };
  if (s.failure) return { node: null, withheld: `${primary} (the primary) did not answer` };
  if (s.replica) return { node: null, withheld: `${primary} replicates from ${s.replica.sourceHost}:${s.replica.sourcePort}` };
  if (s.readOnly === true) return { node: null, withheld: `${primary} is read-only` };
  const others = writableSources(samples).filter((n) => n !== primary);
  if (others.length > 0) {
    return { node: null, withheld: `${others.join(', ')} also writable and replicating from nobody: two primaries, heartbeat written on neither` };
  }
  return { node: primary, withheld: null };
}

function failureHealth(node: string, role: NodeRole, s: NodeSample): NodeHealth {
  const f = s.failure as NonNullable<NodeSample['failure']>;
  return {
    node,
    role,
    state: 'unreachable',
    cause: f.kind,
    lagSeconds: null,
    lagSource: null,
    ioRunning: null,
    sqlRunning: null,
    offsetLagBytes: null,
    message: f.message,
  };
}

function replicaHealth(input: AssessInput, primary: string, s: NodeSample, prev: NodeHealth | undefined): NodeHealth {
  const { cluster } = input;
  const node = s.node;
  const base = { node, role: 'replica' as const, lagSeconds: null, lagSource: null, offsetLagBytes: null };
  const r = s.replica;
  if (!r && s.readOnly !== true) {
    return {
      ...base,
      state: 'broken',
      cause: 'second-primary',
      ioRunning: null,
      sqlRunning: null,
      message: `${node} is writable and replicates from nobody while ${primary} is the primary: two primaries (a promotion with the old primary not yet read-only?); no heartbeat on either`,
    };
  }
  if (!r) {
    return {
      ...base,
      state: 'broken',
      cause: 'not-replicating',
      ioRunning: null,
      sqlRunning: null,
      message: `${node} replicates from nobody (no replica status: replication not configured, or reset), but ${primary} is the primary`,
    };
  }
  const threads = { ioRunning: r.ioRunning, sqlRunning: r.sqlRunning };
  const src = sourceNode(cluster, r);
  if (src !== primary) {
    return {
      ...base,
      ...threads,
      state: 'broken',
      cause: 'wrong-source',
      message: `${node} replicates from ${r.sourceHost}:${r.sourcePort}${src ? ` (${src})` : ''}, not from the primary ${primary}`,
    };
  }
  if (!r.ioRunning) {
    return { ...base, ...threads, state: 'broken', cause: 'io-stopped', message: `${node}: replication IO thread (link to ${primary}) not running${r.lastIoError ? `: ${r.lastIoError}` : ''}` };
  }
  if (r.sqlRunning === false) {
    return { ...base, ...threads, state: 'broken', cause: 'sql-stopped', message: `${node}: replication SQL thread not running${r.lastSqlError ? `: ${r.lastSqlError}` : ''}` };
  }
  const primarySample = input.samples.get(primary);
  const offsetLagBytes =
    r.offset != null && primarySample && !primarySample.failure && primarySample.offset != null ? Math.max(0, primarySample.offset - r.offset) : null;
  const hb = input.heartbeatLag(s);
  const lagSeconds = hb ?? r.secondsBehind;
  const lagSource = hb !== null ? 'heartbeat' : r.secondsBehind !== null ? 'seconds-behind-master' : null;
  const lagged = { ...base, ...threads, lagSeconds: lagSeconds === null ? null : round3(lagSeconds), lagSource, offsetLagBytes } as const;
  const { warnSeconds, maxSeconds } = cluster.lag;
  // Hysteresis: once out of service (lagging, broken, unreachable), a replica returns only when it has caught up to
  // warnSeconds; in service, it leaves above maxSeconds. The first view of a replica uses maxSeconds.
  const outOfService = prev !== undefined && prev.state !== 'ok';
  if (lagSeconds === null) {
    if (outOfService) return { ...lagged, state: 'lagging', cause: 'lag-unknown', message: `${node}: replicating, lag unknown yet; back at ${fmt(warnSeconds)} or less` };
    return { ...lagged, state: 'ok', cause: 'lag-unknown', message: `${node}: replicating from ${primary}, lag unknown` };
  }
  if (lagSeconds > maxSeconds || (outOfService && lagSeconds > warnSeconds)) {
    const cause = lagSeconds > maxSeconds ? 'lagging' : 'catching-up';
    const why =
      cause === 'lagging'
        ? `${fmt(lagSeconds)} behind ${primary}, beyond the ${fmt(maxSeconds)} threshold`
        : `catching up, ${fmt(lagSeconds)} behind ${primary}; back at ${fmt(warnSeconds)} or less`;
    return { ...lagged, state: 'lagging', cause, message: `${node}: ${why}` };
  }
  if (lagSeconds > warnSeconds) {
    return { ...lagged, state: 'ok', cause: 'lag-warning', message: `${node}: ${fmt(lagSeconds)} behind ${primary}, above the ${fmt(warnSeconds)} warning level` };
  }
  return { ...lagged, state: 'ok', cause: 'running', message: `${node}: replicating from ${primary}, ${fmt(lagSeconds)} behind` };
}

export function assess(input: AssessInput): ClusterView {
  const primary = observedPrimary(input);
  const heartbeat = heartbeatTarget(primary, input.samples);
  const nodes = new Map<string, NodeHealth>();
  for (const n of input.cluster.nodes) {
    const s = input.samples.get(n.name);
    const prev = input.previous?.nodes.get(n.name);
    const role: NodeRole = n.name === primary ? 'primary' : 'replica';
    if (!s) continue;
    if (s.failure) {
      nodes.set(n.name, failureHealth(n.name, role, s));
    } else if (role === 'primary') {
      const replicas = s.connectedReplicas != null ? `, ${s.connectedReplicas} replicas connected` : '';
      const hb = heartbeat.withheld ? `; no heartbeat: ${heartbeat.withheld}` : s.heartbeatError ? `; heartbeat: ${s.heartbeatError}` : '';
      const others = writableSources(input.samples).filter((o) => o !== n.name);
      const cause: HealthCause = s.readOnly === true ? 'read-only' : others.length > 0 ? 'second-primary' : 'running';
      nodes.set(n.name, {
        node: n.name,
        role,
        state: 'ok',
        cause,
        lagSeconds: null,
        lagSource: null,
        ioRunning: null,
        sqlRunning: null,
        offsetLagBytes: null,
        message: `${n.name} is the primary${s.readOnly === true ? ' (read-only)' : ''}${replicas}${hb}`,
      });
    } else {
      nodes.set(n.name, replicaHealth(input, primary, s, prev));
    }
  }
  return { primary, nodes, heartbeat };
}

/** True when the change from `before` to `after` is one an event reports: state, role or cause. */
export const healthChanged = (before: NodeHealth | undefined, after: NodeHealth): boolean =>
  !before || before.state !== after.state || before.role !== after.role || before.cause !== after.cause;
