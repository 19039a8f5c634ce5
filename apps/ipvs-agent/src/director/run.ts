import type { Bus } from '@fulcrum/bus';
import type { IpvsControl } from '@fulcrum/netlink';
import { IpvsUnavailableError, NetlinkIpvs } from '@fulcrum/netlink';
import type { Service } from '@fulcrum/runtime';
import { appliedPublisher, attachDirector, attachRetrying } from '../bus-link.js';
import type { IpvsAgentConfig } from '../config.js';
import { DirectorMetrics } from './metrics.js';
import { Reconciler } from './reconciler.js';

/**
 * The director role: open IPVS (retrying while the kernel has none, e.g. before `modprobe ip_vs`;
 * /readyz names `kernel` meanwhile), adopt the table, then follow the desired state.
 */
export async function runDirector(svc: Service<IpvsAgentConfig>, bus: Bus): Promise<void> {
  const cfg = svc.config.director;
  const log = svc.logger.child({ component: 'reconciler' });
  const metrics = new DirectorMetrics(svc.registry);
  let ready = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let close: (() => Promise<void>) | undefined;
  svc.addReadinessCheck('kernel', () => ready);
  svc.onStop('director', async () => {
    stopped = true;
    clearTimeout(retry);
    await close?.();
  });

  const start = async (ipvs: IpvsControl) => {
    const applied = appliedPublisher(bus, svc.config.host, log);
    const reconciler = new Reconciler({
      ipvs,
      logger: log,
      driftCheckMs: cfg.driftCheckInterval * 1000,
      drainMs: cfg.drainTime * 1000,
      coalesceMs: cfg.coalesce * 1000,
      retryMs: cfg.retryInterval * 1000,
      metrics,
      onApplied: applied,
    });
    const links: { close(): void }[] = [];
    close = async () => {
      for (const l of links) l.close();
      await reconciler.stop();
      applied.close();
      await ipvs.close();
    };
    await reconciler.start();
    const link = await attachRetrying('following the desired state', log, cfg.retryInterval * 1000, () => stopped, () =>
      attachDirector({ bus, host: svc.config.host, logger: log, reconciler, ipvs }),
    );
    if (link) links.push(link);
    ready = true;
  };

  const open = async (): Promise<void> => {
    try {
      const ipvs = await NetlinkIpvs.open(cfg.netns ? { netns: cfg.netns } : {});
      if (stopped) return void (await ipvs.close());
      await start(ipvs);
    } catch (err) {
      if (!(err instanceof IpvsUnavailableError) || stopped) throw err;
      log.warn({ err, retryInSeconds: cfg.retryInterval }, 'this kernel has no IPVS (is ip_vs loaded?); retrying');
      retry = setTimeout(() => open().catch((e: unknown) => log.error({ err: e }, 'director failed to start')), cfg.retryInterval * 1000);
    }
  };
  await open();
}
