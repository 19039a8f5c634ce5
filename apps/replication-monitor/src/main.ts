const { connectBus } = await import('@fulcrum/bus');
const { busAuth, packageVersion, runService } = await import('@fulcrum/runtime');
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
    let bus: Awaited<ReturnType<typeof connectBus>> | null = null;
    let stopping = false;
    svc.onStop('bus', async () => {
      stopping = true;
      await link.close();
      await bus?.drain();
    });
    // Stopped before the bus goes, so the last changes still have somewhere to go.
    svc.onStop('monitors', () => supervisor.stop());
    svc.addReadinessCheck('bus', () => bus?.state === 'connected');
    link.start();
    const auth = busAuth(cfg.nats);
    connectBus({
      servers: cfg.nats.servers,
      name: `replication-monitor@${cfg.host}`,
      ...(auth ? { auth } : {}),
      logger: svc.logger,
      registry: svc.registry,
      timeoutMs: svc.config.nats.requestTimeoutMs,
      waitForServer: true,
    })
      .then(async (b) => {
        if (stopping) return void (await b.close());
        bus = b;
        await link.attach(b);
      })
      .catch((err: unknown) => {
        // A connection or attach cut short by stopping is not a failure.
        if (!stopping) svc.logger.error({ err }, 'no bus: watching the configured clusters only, reporting nowhere');
      });
  },
);
