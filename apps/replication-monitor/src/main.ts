const { connectServiceBusInBackground, packageVersion, runService } = await import('@fulcrum/runtime');
const { configSchema } = await import('./config.js');
const { ReplicationLink } = await import('./bus-link.js');
const { ReplicationMetrics } = await import('./metrics.js');
const { ReplicationSupervisor } = await import('./monitor/supervisor.js');

await runService(
  {
    name: 'replication-monitor',
    summary: 'watches MySQL/MariaDB and Redis replication and reports lag and broken replicas',
    version: packageVersion(new URL('../package.json', import.meta.url)),
    configSchema,
    examples: [
      'replication-monitor --config /etc/fulcrum/replication-monitor.yaml',
      'replication-monitor --config /etc/fulcrum/replication-monitor.yaml --check-config',
      'FULCRUM_LOG__LEVEL=debug FULCRUM_STATUS__PORT=0 replication-monitor --config ./replication-monitor.yaml',
    ],
  },
  async (svc) => {
    const cfg = svc.config;
    const metrics = new ReplicationMetrics(svc.registry);
    let link: InstanceType<typeof ReplicationLink> | null = null;
    const supervisor = new ReplicationSupervisor({
      host: cfg.host,
      heartbeat: cfg.heartbeat,
      sentinels: cfg.sentinels,
      logger: svc.logger.child({ component: 'monitor' }),
      onChange: (c) => {
        metrics.event(c.cluster, c.health.state);
        link?.changed(c);
      },
      onRound: (r) => {
        metrics.round(r);
        for (const h of r.view.nodes.values()) link?.current(r.cluster, h);
      },
      onRemoved: (c) => {
        metrics.forget(
          c.id,
          c.nodes.map((n) => n.name),
        );
        link?.removed(c);
      },
    });
    const log = svc.logger.child({ component: 'bus' });
    link = new ReplicationLink({
      host: cfg.host,
      logger: log,
      configClusters: cfg.clusters,
      followDesired: cfg.desiredState,
      onClusters: (clusters) => {
        supervisor.setClusters(clusters).catch((err: unknown) => log.error({ err }, 'clusters not applied'));
      },
    });
    const background = connectServiceBusInBackground(svc, {
      attach: (bus) => link.attach(bus),
      detach: () => link.close(),
      withoutBus: 'watching the configured clusters only, reporting nowhere',
    });
    svc.onStop('bus', () => background.close());
    // Stopped before the bus goes, so the last changes still have somewhere to go.
    svc.onStop('monitors', () => supervisor.stop());
    svc.addReadinessCheck('bus', () => background.bus?.state === 'connected');
    link.start();
  },
);
