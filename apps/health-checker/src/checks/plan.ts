import { hostname } from 'node:os';
import type { HealthCheck } from '@fulcrum/schemas';
import { checkPort, delayBeforeRetryOf, warmupOf } from '@fulcrum/schemas';
import type { CheckSpec } from './run-check.js';
import type { CheckSchedule } from './state.js';
import type { Endpoint, SourceBinding } from './types.js';

/** What it takes to run one configured check against one real server. */
export interface CheckPlan {
  /** Where the probes go (connectIp/connectPort applied). */
  target: Endpoint;
  /** One probe spec; HTTP checks have one per URL, which the engine takes in turn as keepalived does. */
  probes: CheckSpec[];
  schedule: CheckSchedule;
  /** Config options this checker accepts but cannot honour yet, in words (log them once). */
  unsupported: string[];
}

export class CheckPlanError extends Error {
  override name = 'CheckPlanError';
}

const ms = (s: number): number => Math.round(s * 1000);

/** keepalived re-reads a track file on inotify; the file check is polled this often instead. */
export const FILE_POLL_MS = 1000;

/**
 * Turns a validated check from the desired state into probe specs and keepalived's schedule.
 * Defaults have already been filled in by the schema.
 */
export function planCheck(check: HealthCheck, realServer: Endpoint, opts: { heloName?: string } = {}): CheckPlan {
  const unsupported: string[] = [];
  const schedule: CheckSchedule = {
    intervalMs: 'interval' in check ? ms(check.interval) : FILE_POLL_MS,
    retry: 'retries' in check ? check.retries : 0,
    delayBeforeRetryMs: ms(delayBeforeRetryOf(check)),
    warmupMs: ms(warmupOf(check)),
    // The schema has no alpha: servers start up, as keepalived without alpha.
    alpha: false,
    rise: 'rise' in check ? check.rise : 1,
    fall: 1,
  };

  if (check.type === 'script') {
    const timeoutMs = ms(check.timeout ?? check.interval);
    const env = { ...process.env, FULCRUM_RS_ADDRESS: realServer.address, FULCRUM_RS_PORT: String(realServer.port) };
    return {
      target: realServer,
      probes: [
        {
          type: 'script',
          argv: [check.path, ...check.args],
          timeoutMs,
          dynamic: check.dynamicWeight,
          env,
          ...(check.user !== undefined ? { user: check.user } : {}),
        },
      ],
      schedule,
      unsupported,
    };
  }
  if (check.type === 'file') {
    return { target: realServer, probes: [{ type: 'file', path: check.path, weight: check.weight, reverse: check.reverse }], schedule, unsupported };
  }

  const port = checkPort(check, realServer.port);
  if (port === undefined && check.type !== 'icmp') {
    throw new CheckPlanError(`${check.type} check of ${realServer.address}: the real server has no port, so the check needs connectPort`);
  }
  const target: Endpoint = { address: check.connectIp ?? realServer.address, port: port ?? 0 };
  const source: SourceBinding = {};
  if (check.bindTo !== undefined) {
    // A link-local source needs its interface as the address's scope (fe80::1%eth0).
    source.address = check.bindInterface !== undefined ? `${check.bindTo}%${check.bindInterface}` : check.bindTo;
  }
  if (check.bindPort !== undefined) source.port = check.bindPort;
  if (check.fwmark !== undefined && check.type !== 'tcp' && check.type !== 'icmp') {
    unsupported.push(`fwmark ${check.fwmark}: only TCP and ICMP probes (native) set SO_MARK; ${check.type} probes go unmarked`);
  }
  const common = { timeoutMs: ms(check.connectTimeout), ...(source.address !== undefined || source.port !== undefined ? { source } : {}) };

  switch (check.type) {
    case 'tcp':
      return { target, probes: [{ type: 'tcp', ...common, ...(check.fwmark !== undefined ? { mark: check.fwmark } : {}) }], schedule, unsupported };
    case 'icmp':
      if (source.port !== undefined) unsupported.push('bindPort: ICMP has no ports');
      return { target, probes: [{ type: 'icmp', ...common, ...(check.fwmark !== undefined ? { mark: check.fwmark } : {}) }], schedule, unsupported };
    case 'smtp':
      return { target, probes: [{ type: 'smtp', ...common, heloName: check.heloName ?? opts.heloName ?? hostname() }], schedule, unsupported };
    case 'dns':
      return { target, probes: [{ type: 'dns', ...common, queryType: check.queryType, queryName: check.name }], schedule, unsupported };
    case 'udp': {
      const reply = check.requireReply;
      return {
        target,
        probes: [
          {
            type: 'udp',
            ...common,
            ...(check.payload !== undefined ? { payloadHex: check.payload } : {}),
            requireReply: reply !== false,
            ...(typeof reply === 'string' ? { replyPattern: reply } : {}),
            ...(reply !== false ? { minReplyLength: check.minReplyLength, maxReplyLength: check.maxReplyLength } : {}),
          },
        ],
        schedule,
        unsupported,
      };
    }
    case 'http':
    case 'https': {
      if (check.fastRecovery) unsupported.push('fastRecovery: URLs are checked one per interval');
      const tls =
        check.type === 'https'
          ? {
              verify: check.verifyTls,
              ...(check.ca !== undefined ? { caFile: check.ca } : {}),
              ...(check.sni ? { sniFrom: check.sniName } : {}),
            }
          : undefined;
      const probes: CheckSpec[] = check.urls.map((url) => {
        const virtualhost = url.virtualHost ?? check.virtualHost;
        const sni = tls && 'sniFrom' in tls ? (tls.sniFrom ?? virtualhost) : undefined;
        return {
          type: 'http',
          ...common,
          path: url.path,
          statusCodes: url.statusCodes.map(statusRange),
          httpVersion: check.httpVersion,
          ...(url.digest !== undefined ? { digest: url.digest } : {}),
          ...(url.regex !== undefined ? { regex: url.regex, regexNoMatch: url.regexNoMatch } : {}),
          ...(virtualhost !== undefined ? { virtualhost } : {}),
          ...(tls
            ? {
                tls: {
                  verify: tls.verify,
                  ...(tls.caFile !== undefined ? { caFile: tls.caFile } : {}),
                  ...(sni !== undefined ? { sni } : {}),
                },
              }
            : {}),
        };
      });
      if (tls && 'sniFrom' in tls && probes.some((p) => p.type === 'http' && p.tls?.sni === undefined)) {
        unsupported.push('sni: no sniName and no virtualHost to send as SNI');
      }
      return { target, probes, schedule, unsupported };
    }
  }
}

/** "200-299", "204" or 204 as an inclusive range. */
export function statusRange(code: number | string): [number, number] {
  if (typeof code === 'number') return [code, code];
  const [from, to] = code.split('-').map(Number);
  if (from === undefined || !Number.isInteger(from)) throw new CheckPlanError(`status code ${JSON.stringify(code)} is not a code or range`);
  return [from, to ?? from];
}
