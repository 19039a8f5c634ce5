import { release } from 'node:os';

/** What an IPVS call was doing, in the words of the IpvsControl interface. */
export type IpvsOpName =
  | 'addService'
  | 'editService'
  | 'deleteService'
  | 'addDestination'
  | 'editDestination'
  | 'deleteDestination'
  | 'zero'
  | 'flush'
  | 'setTimeouts'
  | 'getTimeouts'
  | 'startDaemon'
  | 'stopDaemon'
  | 'listDaemons'
  | 'dump'
  | 'info';

const MEANING: Record<string, string> = {
  EEXIST: 'already exists',
  ESRCH: 'no such service',
  ENOENT: 'not found',
  EINVAL: 'invalid argument',
  ERANGE: 'value out of range',
  EPERM: 'not permitted (needs CAP_NET_ADMIN)',
  EAFNOSUPPORT: 'address family not supported',
  EBUSY: 'busy',
  ENOMEM: 'out of memory',
};

/** The kernel refused an IPVS operation. `errno` is the errno name, `object` names what it was about. */
export class IpvsError extends Error {
  override name = 'IpvsError';
  constructor(
    readonly errno: string,
    readonly op: IpvsOpName,
    readonly object: string,
    options?: { cause?: unknown; message?: string },
  ) {
    super(options?.message ?? `${op} ${object}: ${errno}${MEANING[errno] ? ` (${MEANING[errno]})` : ''}`, { cause: options?.cause });
  }
}

/** Adding or editing a service with a scheduler (or persistence engine) the running kernel does not have. */
export class SchedulerUnavailableError extends IpvsError {
  override name = 'SchedulerUnavailableError';
  constructor(
    readonly scheduler: string,
    readonly kernel: string,
    op: IpvsOpName,
    object: string,
    options?: { cause?: unknown; persistenceEngine?: string },
  ) {
    const pe = options?.persistenceEngine ? ` or persistence engine '${options.persistenceEngine}'` : '';
    super('ENOENT', op, object, {
      cause: options?.cause,
      message: `${op} ${object}: scheduler '${scheduler}'${pe} is not available in kernel ${kernel} (no ip_vs_${scheduler} module)`,
    });
  }
}

/** There is no IPVS in this kernel / network namespace (the generic-netlink family is missing). */
export class IpvsUnavailableError extends Error {
  override name = 'IpvsUnavailableError';
  constructor(options?: { cause?: unknown; detail?: string }) {
    super(`IPVS is not available on kernel ${release()}${options?.detail ? `: ${options.detail}` : ' (no IPVS generic-netlink family; is ip_vs loaded?)'}`, {
      cause: options?.cause,
    });
  }
}
