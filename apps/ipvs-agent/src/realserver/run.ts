import type { Bus } from '@fulcrum/bus';
import { RtnetlinkAddresses } from '@fulcrum/netlink';
import type { Service } from '@fulcrum/runtime';
import type { VirtualService } from '@fulcrum/schemas';
import { attachRetrying, followVirtualServices } from '../bus-link.js';
import type { IpvsAgentConfig } from '../config.js';
import { RealServerRole, vipsServedBy } from './role.js';

/** The real-server role: after every desired-state change, hold exactly the VIPs this host serves. */
export async function runRealServer(svc: Service<IpvsAgentConfig>, bus: Bus): Promise<void> {
  const cfg = svc.config.realServer;
  const log = svc.logger.child({ component: 'realserver' });
  const addresses = new RtnetlinkAddresses(cfg.netns ? { netns: cfg.netns } : {});
  svc.onStop('addresses', () => addresses.close());
  const role = new RealServerRole({ addresses, logger: log, statePath: cfg.statePath });
  const desired = new Map<string, VirtualService>();
  const hostAddresses = async () =>
    cfg.addresses.length > 0 ? cfg.addresses : (await addresses.addresses()).filter((a) => a.link !== 'lo').map((a) => a.address);
  let chain: Promise<unknown> = Promise.resolve();
  const sync = (): Promise<unknown> => {
    chain = chain
      .then(async () => role.apply(vipsServedBy(desired.values(), await hostAddresses())))
      .catch((err: unknown) => log.error({ err }, 'real-server configuration failed; it is retried on the next change'));
    return chain;
  };
  let stopped = false;
  let follow: { stop(): void } | null = null;
  svc.onStop('desired-state', async () => {
    stopped = true;
    follow?.stop();
    await chain;
  });
  follow = await attachRetrying('following the desired state', log, 5_000, () => stopped, () => followVirtualServices(bus, log, {
    onAll: (services) => {
      desired.clear();
      for (const vs of services) desired.set(vs.id, vs);
      return sync();
    },
    onPut: (vs) => {
      desired.set(vs.id, vs);
      void sync();
    },
    onDelete: (id) => {
      desired.delete(id);
      void sync();
    },
  }));
}
