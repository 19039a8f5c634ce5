import type { IpvsDestination, IpvsService, IpvsServiceKey, IpvsTimeouts } from '@fulcrum/schemas';

/** A service's own settings: everything `-A`/`-E` carries (no destinations). */
export type IpvsServiceSettings = Omit<IpvsService, 'destinations'>;

/** One change to an IPVS table, as one ipvsadm command would make it. */
export type IpvsadmOperation =
  | { kind: 'add-service'; service: IpvsServiceSettings }
  | { kind: 'edit-service'; service: IpvsServiceSettings }
  | { kind: 'delete-service'; key: IpvsServiceKey }
  | { kind: 'add-destination'; key: IpvsServiceKey; destination: IpvsDestination }
  | { kind: 'edit-destination'; key: IpvsServiceKey; destination: IpvsDestination }
  | { kind: 'delete-destination'; key: IpvsServiceKey; address: string; port: number }
  | { kind: 'clear' }
  /** Zero the counters of one service or of all; no change to the table itself. */
  | { kind: 'zero'; key?: IpvsServiceKey }
  /** `--set tcp tcpfin udp`; not part of the table either. */
  | { kind: 'set-timeouts'; timeouts: IpvsTimeouts };

/** Where a token sits in the input: 1-based line and column. */
export interface SourcePosition {
  line: number;
  column: number;
  token: string;
}

/** An operation read from a restore file, with the places its errors should point at. */
export interface LocatedOperation {
  op: IpvsadmOperation;
  /** The command token (`-A`, `-a`, ...). */
  at: SourcePosition;
  /** The virtual service's value token (`10.0.0.1:80` after `-t`), when there is one. */
  serviceAt?: SourcePosition;
  /** The real server's value token (after `-r`), when there is one. */
  serverAt?: SourcePosition;
}
