import { z } from 'zod';
import { absolutePath, interfaceName, ipAddr, positiveSeconds, seconds, servicePort } from './primitives.js';

// Health checks of real servers, with keepalived's checker semantics (keepalived.conf(5), "Virtual server(s)").
// A check runs every `interval`; when it fails it is retried `retries` times, `delayBeforeRetry` apart, before the
// server is marked down (so it goes down after retries + 1 consecutive failures, see failuresBeforeDown). It comes
// back up after `rise` consecutive successes (keepalived: 1). A server is up only while every one of its checks is.

/** keepalived's defaults, each named after the keepalived keyword it mirrors. */
export const CHECK_DEFAULTS = {
  /** delay_loop: 60 s. */
  interval: 60,
  /** connect_timeout: 5 s. */
  connectTimeout: 5,
  /** retry (nb_get_retry): 1; DNS_CHECK 3; MISC_CHECK 0. */
  retries: 1,
  dnsRetries: 3,
  scriptRetries: 0,
  /** delay_before_retry: 1 s; HTTP_GET/SSL_GET 3 s; DNS_CHECK = its interval. */
  delayBeforeRetry: 1,
  httpDelayBeforeRetry: 3,
  /** Consecutive successes to mark a server up again (keepalived has no rise: 1). */
  rise: 1,
  /** HTTP status_code: 200-299. */
  statusCodes: ['200-299'] as string[],
  /** DNS_CHECK type SOA, name ".". */
  dnsQueryType: 'SOA' as const,
  dnsName: '.',
  /** UDP_CHECK min_reply_length 0, max_reply_length 255. */
  udpMinReplyLength: 0,
  udpMaxReplyLength: 255,
} as const;

/** Options every checker except script and file has (keepalived: "generic connection options"). */
const connectionOptions = {
  /** Seconds between checks (delay_loop). */
  interval: seconds(0.01).default(CHECK_DEFAULTS.interval),
  /** Seconds to wait for a connection or reply (connect_timeout; keepalived ignores 0). */
  connectTimeout: positiveSeconds(3600).default(CHECK_DEFAULTS.connectTimeout),
  /**
   * Random delay of up to this many seconds before the first check, to scatter checks (warmup).
   * Absent = up to the interval, as keepalived does; 0 disables it.
   */
  warmup: seconds(0).optional(),
  rise: z.number().int().min(1).max(100).default(CHECK_DEFAULTS.rise),
  /** Address to check instead of the real server's (connect_ip). */
  connectIp: ipAddr.optional(),
  /** Port to check instead of the real server's (connect_port). */
  connectPort: servicePort.optional(),
  /** Source address and port of the check's connection (bindto, bind_port). */
  bindTo: ipAddr.optional(),
  bindPort: servicePort.optional(),
  /** Interface for a link-local bindTo address (bind_if). */
  bindInterface: interfaceName.optional(),
  /** Firewall mark on the check's packets (fwmark). */
  fwmark: z.number().int().min(1).max(0xffffffff).optional(),
};

const retryOptions = (retries: number, delayBeforeRetry?: number) => ({
  /** Extra attempts after a failure before the server is marked down (retry / nb_get_retry). */
  retries: z.number().int().min(0).max(100).default(retries),
  /** Seconds between those attempts (delay_before_retry); absent for DNS = the interval. */
  delayBeforeRetry: delayBeforeRetry === undefined ? seconds(0).optional() : seconds(0).default(delayBeforeRetry),
});

export const tcpCheck = z
  .object({ type: z.literal('tcp'), ...connectionOptions, ...retryOptions(CHECK_DEFAULTS.retries, CHECK_DEFAULTS.delayBeforeRetry) })
  .strict();

const STATUS_RANGE = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/;
/** An HTTP status code (e.g. 200) or an inclusive range "200-299". */
export const statusCodeSpec = z.union([
  z.number().int().min(100).max(599),
  z.string().check((ctx) => {
    const m = STATUS_RANGE.exec(ctx.value);
    if (!m) {
      ctx.issues.push({ code: 'custom', input: ctx.value, message: `"${ctx.value}" is not a status code or a range like "200-299"` });
    } else if (m[2] !== undefined && Number(m[2]) < Number(m[1])) {
      ctx.issues.push({ code: 'custom', input: ctx.value, message: `range "${ctx.value}" ends before it starts` });
    }
  }),
]);

/** True when `status` is in the list of codes and ranges. */
export function statusCodeMatches(codes: ReadonlyArray<number | string>, status: number): boolean {
  return codes.some((c) => {
    if (typeof c === 'number') return c === status;
    const m = STATUS_RANGE.exec(c);
    if (!m) return false;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    return status >= from && status <= to;
  });
}

export const httpUrl = z
  .object({
    /** Request path, e.g. "/" or "/health?deep=1". */
    path: z.string().regex(/^\/\S*$/, { message: 'must start with "/" and contain no spaces' }),
    /** Accepted status codes and ranges (status_code), default 200-299. */
    statusCodes: z.array(statusCodeSpec).min(1).default(CHECK_DEFAULTS.statusCodes),
    /** MD5 of the response body as genhash prints it (digest): 32 hex digits. */
    digest: z
      .string()
      .regex(/^[0-9a-fA-F]{32}$/, { message: 'must be an MD5 digest: 32 hex digits (as genhash prints it)' })
      .overwrite((s) => s.toLowerCase())
      .optional(),
    /** Host header for this URL (virtualhost); overrides the check's. */
    virtualHost: z.string().min(1).max(255).optional(),
    /** The body must match this regular expression (regex); with regexNoMatch, must not. */
    regex: z
      .string()
      .min(1)
      .refine(
        (s) => {
          try {
            new RegExp(s);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'is not a valid regular expression' },
      )
      .optional(),
    regexNoMatch: z.boolean().default(false),
  })
  .strict();
export type HttpUrl = z.infer<typeof httpUrl>;

const httpOptions = {
  ...connectionOptions,
  ...retryOptions(CHECK_DEFAULTS.retries, CHECK_DEFAULTS.httpDelayBeforeRetry),
  urls: z.array(httpUrl).min(1, { message: 'needs at least one URL to check' }),
  /** HTTP version of the request (http_protocol): "1.0C" is 1.0 plus "Connection: close". keepalived: 1.0. */
  httpVersion: z.enum(['1.0', '1.0C', '1.1']).default('1.0'),
  /** Host header for all URLs (virtualhost). */
  virtualHost: z.string().min(1).max(255).optional(),
  /** Check every URL at once after a failure instead of one per interval (fast_recovery). */
  fastRecovery: z.boolean().default(false),
};

export const httpCheck = z.object({ type: z.literal('http'), ...httpOptions }).strict();

export const httpsCheck = z
  .object({
    type: z.literal('https'),
    ...httpOptions,
    /** Send SNI (enable_sni); the name is sniName, else the virtual host. */
    sni: z.boolean().default(false),
    sniName: z.string().min(1).max(255).optional(),
    /**
     * Verify the server's certificate (against `ca`, or the system store). keepalived does not verify by default:
     * real servers often carry self-signed certificates and the check is about liveness.
     */
    verifyTls: z.boolean().default(false),
    ca: absolutePath.optional(),
  })
  .strict();

export const smtpCheck = z
  .object({
    type: z.literal('smtp'),
    ...connectionOptions,
    ...retryOptions(CHECK_DEFAULTS.retries, CHECK_DEFAULTS.delayBeforeRetry),
    /** Name sent with HELO (helo_name); absent = this host's name. */
    heloName: z.string().min(1).max(255).optional(),
  })
  .strict();

export const dnsCheck = z
  .object({
    type: z.literal('dns'),
    ...connectionOptions,
    ...retryOptions(CHECK_DEFAULTS.dnsRetries),
    queryType: z.enum(['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA']).default(CHECK_DEFAULTS.dnsQueryType),
    name: z
      .string()
      .regex(/^(\.|([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?)+)$/, { message: 'must be a domain name such as "example.com" or "."' })
      .max(253)
      .default(CHECK_DEFAULTS.dnsName),
  })
  .strict();

const hexBytes = z
  .string()
  .regex(/^[0-9a-fA-F\s]+$/, { message: 'must be hex digits (spaces allowed between bytes)' });

export const udpCheck = z
  .object({
    type: z.literal('udp'),
    ...connectionOptions,
    ...retryOptions(CHECK_DEFAULTS.retries, CHECK_DEFAULTS.delayBeforeRetry),
    /** Datagram to send, in hex (payload); absent = random bytes. */
    payload: hexBytes.optional(),
    /** Require a reply (require_reply); a hex string also checks its first bytes ('x' = any nibble). */
    requireReply: z.union([z.boolean(), z.string().regex(/^[0-9a-fA-FxX\s]+$/, { message: 'must be hex digits or x' })]).default(false),
    minReplyLength: z.number().int().min(0).max(65507).default(CHECK_DEFAULTS.udpMinReplyLength),
    maxReplyLength: z.number().int().min(0).max(65507).default(CHECK_DEFAULTS.udpMaxReplyLength),
  })
  .strict();

export const icmpCheck = z
  .object({ type: z.literal('icmp'), ...connectionOptions, ...retryOptions(CHECK_DEFAULTS.retries, CHECK_DEFAULTS.delayBeforeRetry) })
  .strict();

export const scriptCheck = z
  .object({
    type: z.literal('script'),
    /**
     * Program to run (misc_path); no shell is involved, arguments are separate. Exit 0 = up. It runs with
     * FULCRUM_RS_ADDRESS and FULCRUM_RS_PORT in its environment (keepalived passes them as arguments instead).
     */
    path: absolutePath,
    args: z.array(z.string()).default([]),
    interval: seconds(0.01).default(CHECK_DEFAULTS.interval),
    /** Seconds before the script is killed and counted as failed (misc_timeout); absent = the interval. */
    timeout: positiveSeconds().optional(),
    ...retryOptions(CHECK_DEFAULTS.scriptRetries, CHECK_DEFAULTS.delayBeforeRetry),
    warmup: seconds(0).optional(),
    rise: z.number().int().min(1).max(100).default(CHECK_DEFAULTS.rise),
    /** Exit status 2..255 sets the weight to status - 2 (misc_dynamic). */
    dynamicWeight: z.boolean().default(false),
    /** Run as this user (user). */
    user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'must be a user name' }).optional(),
  })
  .strict();

export const fileCheck = z
  .object({
    type: z.literal('file'),
    /** File holding a number, re-read when it changes (track_file). */
    path: absolutePath,
    /**
     * 0: the number is a status, 0 = up and anything else = down. Otherwise the number times `weight` is added
     * to the real server's weight (keepalived's dynamic track file).
     */
    weight: z.number().int().min(-2147483647).max(2147483647).default(0),
    /** Invert the meaning of the value (reverse). */
    reverse: z.boolean().default(false),
  })
  .strict();

export const HEALTH_CHECK_TYPES = ['tcp', 'http', 'https', 'smtp', 'dns', 'udp', 'icmp', 'script', 'file'] as const;

export const healthCheck = z
  .discriminatedUnion('type', [tcpCheck, httpCheck, httpsCheck, smtpCheck, dnsCheck, udpCheck, icmpCheck, scriptCheck, fileCheck])
  .superRefine((c, ctx) => {
    if (c.type === 'https' && c.sniName !== undefined && !c.sni) {
      ctx.addIssue({ code: 'custom', path: ['sniName'], message: 'is only used when sni is true' });
    }
    if (c.type === 'https' && c.ca !== undefined && !c.verifyTls) {
      ctx.addIssue({ code: 'custom', path: ['ca'], message: 'is only used when verifyTls is true' });
    }
    if (c.type === 'udp' && c.minReplyLength > c.maxReplyLength) {
      ctx.addIssue({ code: 'custom', path: ['minReplyLength'], message: `(${c.minReplyLength}) must not exceed maxReplyLength (${c.maxReplyLength})` });
    }
    if (c.type === 'udp' && c.requireReply === false && (c.minReplyLength !== 0 || c.maxReplyLength !== CHECK_DEFAULTS.udpMaxReplyLength)) {
      ctx.addIssue({ code: 'custom', path: ['minReplyLength'], message: 'reply lengths are only checked when requireReply is set' });
    }
    if (c.type === 'script' && c.timeout !== undefined && c.timeout > c.interval) {
      ctx.addIssue({ code: 'custom', path: ['timeout'], message: `(${c.timeout} s) must not exceed the interval (${c.interval} s)` });
    }
    if ('bindInterface' in c && c.bindInterface !== undefined && c.bindTo === undefined) {
      ctx.addIssue({ code: 'custom', path: ['bindInterface'], message: 'is only used with bindTo' });
    }
  });
export type HealthCheck = z.infer<typeof healthCheck>;
export type HealthCheckType = HealthCheck['type'];

/** Consecutive failed attempts after which the server is marked down (keepalived: retry + 1). */
export const failuresBeforeDown = (check: HealthCheck): number => (check.type === 'file' ? 1 : check.retries + 1);

/** The effective warmup (seconds): keepalived scatters the first check over up to one interval unless told. */
export const warmupOf = (check: HealthCheck): number => (check.type === 'file' ? 0 : (check.warmup ?? check.interval));

/** The effective delay before a retry (seconds): DNS checks retry after one interval, as keepalived does. */
export const delayBeforeRetryOf = (check: HealthCheck): number =>
  check.type === 'file' ? 0 : (check.delayBeforeRetry ?? check.interval);

/** The port a check connects to: its connectPort, else the real server's. */
export const checkPort = (check: HealthCheck, realServerPort: number): number | undefined =>
  'connectPort' in check && check.connectPort !== undefined ? check.connectPort : realServerPort === 0 ? undefined : realServerPort;

export const checkNeedsPort = (check: HealthCheck): boolean => !['icmp', 'script', 'file'].includes(check.type);
