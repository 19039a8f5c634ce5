import { IpvsUnavailableError, NetlinkIpvs } from '@fulcrum/netlink';
import { serviceId, toIpvsServiceKey } from '@fulcrum/schemas';
import type { VirtualService, VrrpInstance } from '@fulcrum/schemas';
import type { Logger } from 'pino';

// A director that has just started must not claim a VIP before its own IPVS table serves it: after a
// reboot the kernel's table is empty until ipvs-agent has programmed it, and a director that preempts
// first black-holes every client (keepalived has the same hole; its vrrp_startup_delay is a fixed
// guess). The agent holds such instances in fault until the table holds their virtual services, or
// until a bound, and asks the kernel itself: a status or event could come from before the reboot.

/** The local IPVS table as the startup hold asks it. */
export interface DataPlane {
  /** The virtual services among `services` the table does not hold yet (as "tcp 10.0.0.1:80"); null when this host has no IPVS. */
  missing(services: readonly VirtualService[]): Promise<string[] | null>;
}

/** The virtual services an instance's VIPs carry (by address; a firewall-mark service names no address). */
export function frontedServices(inst: Pick<VrrpInstance, 'virtualAddresses'>, services: readonly VirtualService[]): VirtualService[] {
  const vips = new Set(inst.virtualAddresses.map((v) => v.address));
  return services.filter((s) => s.match.kind === 'address' && vips.has(s.match.address));
}

export const describeService = (vs: VirtualService): string => serviceId(toIpvsServiceKey(vs.match));

/**
 * The kernel's table, read with one dump per question. The IPVS family is looked up on first use: a
 * kernel without IPVS (a VRRP-only router) answers null, once logged, and is not asked again.
 */
export class KernelDataPlane implements DataPlane {
  private ipvs: Promise<NetlinkIpvs | null> | null = null;

  constructor(private readonly logger: Logger) {}

  private open(): Promise<NetlinkIpvs | null> {
    this.ipvs ??= NetlinkIpvs.open().catch((err: unknown) => {
      if (err instanceof IpvsUnavailableError) {
        this.logger.info({ err }, 'no IPVS in this kernel: VRRP instances do not wait for an IPVS table');
        return null;
      }
      this.ipvs = null; // asked again next time
      throw err;
    });
    return this.ipvs;
  }

  async missing(services: readonly VirtualService[]): Promise<string[] | null> {
    const ipvs = await this.open();
    if (!ipvs) return null;
    const dump = await ipvs.dump();
    const held = new Set(dump.services.map((s) => serviceId(s.service.key)));
    return services.map(describeService).filter((id) => !held.has(id));
  }

  async close(): Promise<void> {
    const ipvs = await this.ipvs?.catch(() => null);
    await ipvs?.close();
  }
}
