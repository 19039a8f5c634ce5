import type { IpvsDestination, IpvsService, IpvsServiceKey, IpvsTimeouts } from '@fulcrum/schemas';

/** A service's own settings: everything `-A`/`-E` carries (its destinations are not part of it). */
export type IpvsServiceSettings = Omit<IpvsService, 'destinations'>;

/**
 * One change to an IPVS table, as one ipvsadm command makes it. The same shape as the netlink
 * library's IpvsOp, so a reconciler's diff prints as commands and a restore file applies as ops.
 */
export type IpvsadmOperation =
  | { op: 'addService'; service: IpvsService }
  | { op: 'editService'; service: IpvsService }
  | { op: 'deleteService'; key: IpvsServiceKey }
  | { op: 'addDestination'; key: IpvsServiceKey; destination: IpvsDestination }
  | { op: 'editDestination'; key: IpvsServiceKey; destination: IpvsDestination }
  | { op: 'deleteDestination'; key: IpvsServiceKey; destination: Pick<IpvsDestination, 'address' | 'port'> }
  /** Zero the counters of one service or of all; no change to the table itself. */
  | { op: 'zero'; key?: IpvsServiceKey }
  /** `-C`: remove every service. */
  | { op: 'flush' }
  /** `--set tcp tcpfin udp`; not part of the table either. */
  | { op: 'setTimeouts'; timeouts: IpvsTimeouts };

/** Where a token sits in the input: 1-based line and column. */
export interface SourcePosition {
  line: number;
  column: number;
  token: string;
}

/** An operation read from a restore file, with the places its errors should point at. */
export interface LocatedOperation {
  operation: IpvsadmOperation;
  /** The command token (`-A`, `-a`, ...). */
  at: SourcePosition;
  /** The virtual service's value token (`10.0.0.1:80` after `-t`), when there is one. */
  serviceAt?: SourcePosition;
  /** The real server's value token (after `-r`), when there is one. */
  serverAt?: SourcePosition;
}
