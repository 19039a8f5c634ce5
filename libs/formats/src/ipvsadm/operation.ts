import type { IpvsOp, IpvsService } from '@fulcrum/schemas';

/** A service's own settings: everything `-A`/`-E` carries (its destinations are not part of it). */
export type IpvsServiceSettings = Omit<IpvsService, 'destinations'>;

/** One change to an IPVS table, as one ipvsadm command makes it: the contract's IpvsOp. */
export type IpvsadmOperation = IpvsOp;

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
