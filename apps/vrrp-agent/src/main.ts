import { RtnetlinkAddresses, RtnetlinkLinkWatch, openArpAnnouncer, openVrrpSocket } from '@fulcrum/netlink';
import { packageVersion, runService } from '@fulcrum/runtime';
import { VrrpAgent } from './agent/agent.js';
import { KernelDataPlane } from './agent/data-plane.js';
import { BusLink } from './bus-link.js';
import { configSchema } from './config.js';

await runService(
  {
    name: 'vrrp-agent',
    summary: 'moves the virtual IPs between directors with VRRP v2/v3 and gratuitous ARP',
    version: packageVersion(new URL('../package.json', import.meta.url)),
    configSchema,
    examples: [
      'vrrp-agent --config /etc/fulcrum/vrrp-agent.yaml',
      'vrrp-agent --config /etc/fulcrum/vrrp-agent.yaml --check-config',
      'FULCRUM_LOG__LEVEL=debug FULCRUM_STATUS__PORT=0 vrrp-agent --config ./vrrp-agent.yaml',
    ],
  },
  async (svc) => {
    const cfg = svc.config;
    const addresses = new RtnetlinkAddresses();
    const linkLog = svc.logger.child({ component: 'links' });
    const links = new RtnetlinkLinkWatch({ resyncMs: cfg.linkResyncInterval * 1000, onError: (err) => linkLog.warn({ err }, 'cannot read link states') });
    svc.onStop('rtnetlink', async () => {
      await addresses.close();
      await links.close();
    });
    const table = new KernelDataPlane(svc.logger.child({ component: 'startup-hold' }));
    svc.onStop('ipvs', () => table.close());
    let link: BusLink | null = null;
    const agent = new VrrpAgent({
      host: cfg.host,
      logger: svc.logger.child({ component: 'vrrp' }),
      registry: svc.registry,
      kernel: {
        addresses,
        links,
        openChannel: (o) => openVrrpSocket(o),
        openAnnouncer: (iface) => openArpAnnouncer({ interface: iface }),
      },
      announce: {
        count: cfg.announce.count,
        intervalMs: cfg.announce.interval * 1000,
        repeatDelayMs: cfg.announce.repeatDelay * 1000,
        refreshMs: cfg.announce.refresh * 1000,
      },
      onState: (data) => link?.onState(data),
      dataPlane: cfg.startupHold > 0 ? { table, holdMs: cfg.startupHold * 1000 } : undefined,
    });
    // Registered before the agent so that it closes after it: the last events still go out.
    link = new BusLink(svc, agent);
    svc.onStop('bus', () => link.close());
    svc.onStop('vrrp instances', () => agent.stop('service stopping'));
    const refused = await agent.apply(cfg.instances);
    for (const r of refused) svc.logger.error(r, 'configured VRRP instance not run');
    link.start();
  },
);
