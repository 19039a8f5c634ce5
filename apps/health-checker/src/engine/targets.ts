import type { HealthCheckType, VirtualService } from '@fulcrum/schemas';
import { healthChecksOf } from '@fulcrum/schemas';
import { type CheckPlan, planCheck } from '../checks/index.js';
import type { Endpoint } from '../checks/index.js';

/** One configured check of a real server, planned. */
export interface PlannedCheck {
  type: HealthCheckType;
  plan: CheckPlan;
}

/** Everything the engine needs to check one real server of one virtual service. */
export interface ServerTarget {
  /** Unique per (virtual service, real server): `web/10.0.0.1:80`. */
  key: string;
  virtualService: string;
  realServer: Endpoint;
  /** The configured weight (the base of FILE_CHECK adjustments). */
  weight: number;
  checks: PlannedCheck[];
  /** Changes when anything the checks depend on changes; an equal fingerprint keeps the running state. */
  fingerprint: string;
}

export interface TargetProblem {
  virtualService: string;
  realServer: string;
  message: string;
}

export const serverKey = (virtualService: string, rs: Endpoint): string =>
  `${virtualService}/${rs.address.includes(':') ? `[${rs.address}]` : rs.address}:${rs.port}`;

/**
 * The real servers to check: every real server with checks (its own, else its service's) of every
 * virtual service. A server without checks is not checked and stays at its configured weight, as
 * in keepalived. A check that cannot be planned is a problem for that server only.
 */
export function serverTargets(services: readonly VirtualService[], opts: { heloName?: string } = {}): { targets: ServerTarget[]; problems: TargetProblem[] } {
  const targets: ServerTarget[] = [];
  const problems: TargetProblem[] = [];
  for (const vs of services) {
    for (const rs of vs.realServers) {
      const checks = healthChecksOf(vs, rs);
      if (checks.length === 0) continue;
      const endpoint = { address: rs.address, port: rs.port };
      const key = serverKey(vs.id, endpoint);
      try {
        const planned = checks.map((c) => {
          const plan = planCheck(c, endpoint, opts);
          // The service's alpha: its servers start down until their checks pass.
          plan.schedule.alpha = vs.alpha;
          return { type: c.type, plan };
        });
        targets.push({
          key,
          virtualService: vs.id,
          realServer: endpoint,
          weight: rs.weight,
          checks: planned,
          fingerprint: JSON.stringify([vs.alpha, rs.weight, checks]),
        });
      } catch (err) {
        problems.push({ virtualService: vs.id, realServer: key, message: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return { targets, problems };
}
