import type { VrrpState } from './instance.js';

export interface SyncGroupMember {
  readonly name: string;
  readonly state: VrrpState;
  /** A backup whose master-down timer fired (VrrpInstance.wantsMaster). */
  readonly wantsMaster: boolean;
}

export interface SyncGroupDecision {
  /** Where the group as a whole is. */
  readonly group: 'master' | 'backup';
  /** The `syncGroup` events to feed to members that must follow, in member order. */
  readonly moves: readonly { readonly name: string; readonly to: 'master' | 'backup'; readonly why: string }[];
}

/**
 * The virtual routers of a sync group move together, so that e.g. the outside and inside addresses
 * of a NAT director are always on the same host: the group is master only when every member is
 * master or wants to be (keepalived's vrrp_sync_can_goto_master: prefer backup to avoid thrashing);
 * one member in fault, backup (not wanting master) or stopped sends every master member to backup.
 * keepalived sends the others to FAULT instead; backup sends no adverts either, so the wire is the
 * same, and the members keep listening so they can come back as soon as the group can.
 */
export function syncGroupDecision(members: readonly SyncGroupMember[]): SyncGroupDecision {
  const holding = members.find((m) => m.state !== 'master' && !(m.state === 'backup' && m.wantsMaster));
  if (holding) {
    const why = `sync group: ${holding.name} is ${holding.state}`;
    return { group: 'backup', moves: members.filter((m) => m.state === 'master').map((m) => ({ name: m.name, to: 'backup', why })) };
  }
  const why = 'sync group: every member is master or wants to be';
  return { group: 'master', moves: members.filter((m) => m.state === 'backup').map((m) => ({ name: m.name, to: 'master', why })) };
}
