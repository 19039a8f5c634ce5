import { z } from 'zod';
import { defineRequest } from './contract.js';
import type { RequestSubject } from './contract.js';
import { anyPort, interfaceName, ipAddr, slug } from './primitives.js';

// Commands are NATS request/reply to one host: fulcrum.cmd.<command>.<host>. Every reply is
// { ok: true, message } or { ok: false, code, message } with a code from COMMAND_ERROR_CODES.

/** Error codes of command replies, each with what it means. */
export const COMMAND_ERROR_CODES = {
  INVALID_REQUEST: 'The request does not follow the contract; the message names the field.',
  NOT_FOUND: 'The named virtual service, real server or VRRP instance is not known on this host.',
  CONFLICT: 'The command contradicts the current state (e.g. failover asked of a backup).',
  NOT_SUPPORTED: 'This host or its kernel cannot do it (e.g. a scheduler module is missing).',
  UNAVAILABLE: 'A dependency is down (kernel handle, bus, upstream); retry later.',
  TIMEOUT: 'The work did not finish in time; its outcome is unknown.',
  INTERNAL: 'An unexpected failure; the service logged the details.',
} as const;
export type CommandErrorCode = keyof typeof COMMAND_ERROR_CODES;
export const commandErrorCode = z.enum(Object.keys(COMMAND_ERROR_CODES) as [CommandErrorCode, ...CommandErrorCode[]]);

export const commandReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), message: z.string().max(1000) }).strict(),
  z.object({ ok: z.literal(false), code: commandErrorCode, message: z.string().max(1000) }).strict(),
]);
export type CommandReply = z.infer<typeof commandReply>;

export const okReply = (message: string): CommandReply => ({ ok: true, message });
export const errorReply = (code: CommandErrorCode, message: string): CommandReply => ({ ok: false, code, message });

const reason = z.string().max(500).optional();

/** Which real server of which virtual service. */
export const realServerRef = z.object({ virtualService: slug, address: ipAddr, port: anyPort, reason }).strict();
export type RealServerRef = z.infer<typeof realServerRef>;

/** Weight 0 for a real server: existing connections finish, new ones go elsewhere. */
export const drainRealServer: RequestSubject<RealServerRef, CommandReply> = defineRequest(
  'fulcrum.cmd.realserver-drain.{host}',
  realServerRef,
  commandReply,
);
/** Undo a drain: the real server gets its configured weight back (if healthy). */
export const enableRealServer: RequestSubject<RealServerRef, CommandReply> = defineRequest(
  'fulcrum.cmd.realserver-enable.{host}',
  realServerRef,
  commandReply,
);

export const vrrpFailoverRequest = z.object({ instance: slug, reason }).strict();
export type VrrpFailoverRequest = z.infer<typeof vrrpFailoverRequest>;
/** Ask the master of an instance on this host to hand over: it sends priority 0 and becomes backup. */
export const vrrpFailover: RequestSubject<VrrpFailoverRequest, CommandReply> = defineRequest(
  'fulcrum.cmd.vrrp-failover.{host}',
  vrrpFailoverRequest,
  commandReply,
);

export const reloadConfigRequest = z.object({ reason }).strict();
export type ReloadConfigRequest = z.infer<typeof reloadConfigRequest>;
/** Re-read the whole desired state (and the service's own config file) and reconcile. */
export const reloadConfig: RequestSubject<ReloadConfigRequest, CommandReply> = defineRequest(
  'fulcrum.cmd.config-reload.{host}',
  reloadConfigRequest,
  commandReply,
);

/** IPVS connection synchronisation (ipvsadm --start-daemon): the master sends, the backup receives. */
export const syncDaemonRequest = z
  .discriminatedUnion('role', [
    z
      .object({
        role: z.enum(['master', 'backup']),
        interface: interfaceName,
        /** Sync id (--syncid), 0..255; both directors of a pair use the same. */
        syncId: z.number().int().min(0).max(255).default(0),
        reason,
      })
      .strict(),
    z.object({ role: z.literal('stopped'), reason }).strict(),
  ]);
export type SyncDaemonRequest = z.infer<typeof syncDaemonRequest>;
export const setSyncDaemon: RequestSubject<SyncDaemonRequest, CommandReply> = defineRequest(
  'fulcrum.cmd.ipvs-sync-daemon.{host}',
  syncDaemonRequest,
  commandReply,
);

export const COMMANDS = { drainRealServer, enableRealServer, vrrpFailover, reloadConfig, setSyncDaemon } as const;
