import { z } from 'zod';
import { endpointWithDefaultPort, ipAddr, secret, servicePort, slug } from './primitives.js';

// The session store: a RESP proxy on backend hosts in front of the Redis tier that holds shared web sessions
// (the seeds' tomcat-redis-session-manager and PHP sessions), so a session survives a switch of backend.

/** Commands a session handler needs (Tomcat and PHP Redis session handlers, simple locks). */
export const DEFAULT_SESSION_COMMANDS = [
  'AUTH', 'HELLO', 'PING', 'ECHO', 'SELECT', 'QUIT',
  'GET', 'SET', 'SETEX', 'PSETEX', 'SETNX', 'GETEX', 'GETDEL', 'MGET', 'DEL', 'UNLINK', 'EXISTS',
  'EXPIRE', 'PEXPIRE', 'EXPIREAT', 'TTL', 'PTTL', 'PERSIST',
  'HGET', 'HSET', 'HMSET', 'HMGET', 'HGETALL', 'HDEL', 'HEXISTS', 'HLEN', 'HINCRBY',
  // Session managers take their locks with scripts (PHP's redis handler among them).
  'EVAL', 'EVALSHA',
] as const;

/** Commands that administer or wipe the server; never allowed through the proxy. */
export const FORBIDDEN_SESSION_COMMANDS = [
  'ACL', 'BGREWRITEAOF', 'BGSAVE', 'CLUSTER', 'CONFIG', 'DEBUG', 'FAILOVER', 'FLUSHALL', 'FLUSHDB', 'KEYS',
  'MIGRATE', 'MODULE', 'MONITOR', 'REPLICAOF', 'SAVE', 'SCRIPT', 'SHUTDOWN', 'SLAVEOF', 'SYNC', 'PSYNC',
] as const;

const commandName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z-]{0,31}$/, { message: 'must be a Redis command name such as GET' })
  .overwrite((s) => s.toUpperCase());

export const sessionUpstream = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('direct'),
      master: endpointWithDefaultPort(6379),
      replicas: z.array(endpointWithDefaultPort(6379)).default([]),
    })
    .strict(),
  z
    .object({
      mode: z.literal('sentinel'),
      sentinels: z.array(endpointWithDefaultPort(26379)).min(1, { message: 'needs at least one sentinel' }),
      /** The monitored master's name in Sentinel (sentinel monitor <name> ...). */
      masterName: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be a Sentinel master name (letters, digits, . _ -)' }),
      sentinelPassword: secret().optional(),
    })
    .strict(),
  z
    .object({
      mode: z.literal('replication'),
      /**
       * The Redis replication cluster whose master the replication-monitor observes: the proxy follows its
       * status entries and `replication` events, and until they name a master it has none (no guess from the
       * cluster's configured roles, which say where the cluster started, not where it is).
       */
      replicationCluster: slug,
    })
    .strict(),
]);
export type SessionUpstream = z.infer<typeof sessionUpstream>;

export const sessionStoreObject = z
  .object({
    kind: z.literal('session-store'),
    id: slug,
    description: z.string().max(200).optional(),
    /** Where the proxy accepts clients on each backend host; loopback by default. */
    listen: z
      .object({ address: ipAddr.default('127.0.0.1'), port: servicePort.default(6379) })
      .strict()
      .default({ address: '127.0.0.1', port: 6379 }),
    /** Backend hosts that run the proxy. */
    hosts: z.array(slug).min(1, { message: 'needs at least one backend host' }),
    upstream: sessionUpstream,
    /** Redis ACL user and password the proxy uses upstream. */
    username: z.string().min(1).max(128).optional(),
    password: secret().optional(),
    /** Password clients must AUTH with to the proxy; absent = no client authentication. */
    clientPassword: secret().optional(),
    database: z.number().int().min(0).max(15).default(0),
    /** Send read-only commands to replicas (they may lag behind the master). */
    readFromReplicas: z.boolean().default(false),
    allowedCommands: z.array(commandName).min(1).default([...DEFAULT_SESSION_COMMANDS]),
  })
  .strict();

export const sessionStore = sessionStoreObject.superRefine((s, ctx) => {
  const forbidden = new Set<string>(FORBIDDEN_SESSION_COMMANDS);
  const seen = new Set<string>();
  s.allowedCommands.forEach((c, i) => {
    if (forbidden.has(c)) {
      ctx.addIssue({ code: 'custom', path: ['allowedCommands', i], message: `${c} administers or wipes the server and cannot be allowed` });
    }
    if (seen.has(c)) ctx.addIssue({ code: 'custom', path: ['allowedCommands', i], message: `${c} is listed twice` });
    seen.add(c);
  });
  if (s.readFromReplicas && s.upstream.mode === 'direct' && s.upstream.replicas.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['readFromReplicas'], message: 'needs at least one replica in upstream.replicas' });
  }
  if (s.upstream.mode === 'direct') {
    const m = s.upstream.master;
    s.upstream.replicas.forEach((r, i) => {
      if (r.address === m.address && r.port === m.port) {
        ctx.addIssue({ code: 'custom', path: ['upstream', 'replicas', i], message: 'is the master itself' });
      }
    });
  }
  if (new Set(s.hosts).size !== s.hosts.length) ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'lists a host twice' });
});
export type SessionStore = z.infer<typeof sessionStore>;
