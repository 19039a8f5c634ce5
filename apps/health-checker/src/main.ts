import { genhashMain } from './genhash/index.js';

// `health-checker genhash --url ...` is keepalived's genhash for config authors: its own options, no service config.
if (process.argv[2] === 'genhash') {
  process.exit(await genhashMain(process.argv.slice(3)));
}

const { connectServiceBusInBackground, packageVersion, runService } = await import('@fulcrum/runtime');
const { configSchema } = await import('./config.js');
const { HealthEngine } = await import('./engine/engine.js');
const { HealthMetrics } = await import('./engine/metrics.js');
const { serverTargets } = await import('./engine/targets.js');
const { HealthLink } = await import('./bus-link.js');
const { nativeTcpUnavailable } = await import('./checks/tcp.js');

await runService(
  {
    name: 'health-checker',
    summary: 'checks the real servers (TCP, HTTP, HTTPS, SMTP, DNS, UDP, ICMP, scripts) and reports their health',
    version: packageVersion(new URL('../package.json', import.meta.url)),
    configSchema,
    examples: [
      'health-checker --config /etc/fulcrum/health-checker.yaml',
      'health-checker --config /etc/fulcrum/health-checker.yaml --check-config',
      'FULCRUM_LOG__LEVEL=debug FULCRUM_STATUS__PORT=0 health-checker --config ./health-checker.yaml',
      'health-checker genhash --url http://10.0.0.1/health',
    ],
  },
  async (svc) => {
    const cfg = svc.config;
    const log = svc.logger.child({ component: 'engine' });
    const tcpFallback = nativeTcpUnavailable();
    if (tcpFallback !== undefined) log.warn({ reason: tcpFallback }, 'TCP checks run on Node sockets (slower): the native prober is not available');
    let link: InstanceType<typeof HealthLink> | null = null;
    const engine = new HealthEngine({
      maxInFlight: cfg.maxInFlight,
      observer: new HealthMetrics(svc.registry),
      onReport: (r) => link?.report(r),
      onRemoved: (vs, rs) => link?.removed(vs, rs),
    });
    const warned = new Set<string>();
    link = new HealthLink({
      host: cfg.host,
      logger: svc.logger.child({ component: 'bus' }),
      configServices: cfg.virtualServices,
      followDesired: cfg.desiredState,
      onServices: (services) => {
        const { targets, problems } = serverTargets(services, cfg.heloName !== undefined ? { heloName: cfg.heloName } : {});
        for (const p of problems) log.error(p, 'real server not checked');
        for (const t of targets) {
          for (const c of t.checks) {
            for (const u of c.plan.unsupported) {
              const key = `${t.key} ${u}`;
              if (!warned.has(key)) log.warn({ virtualService: t.virtualService, realServer: t.key }, `${c.type} check: ${u}`);
              warned.add(key);
            }
          }
        }
        engine.setTargets(targets);
        log.info({ services: services.length, realServers: engine.size }, 'checking');
      },
    });
    const background = connectServiceBusInBackground(svc, {
      attach: (bus) => link.attach(bus),
      detach: () => link.close(),
      withoutBus: 'checking the configured virtual services only, reporting nowhere',
    });
    svc.onStop('bus', () => background.close());
    // Stopped before the bus goes, so the last reports still have somewhere to go.
    svc.onStop('checks', () => engine.stop());
    link.start();
  },
);
