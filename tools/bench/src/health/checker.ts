import { HealthEngine, HealthMetrics, serverTargets } from '@fulcrum/health-checker';
import type { CheckResult, EngineObserver, Endpoint, Health } from '@fulcrum/health-checker';
import type { HealthCheckType, VirtualService } from '@fulcrum/schemas';
import { virtualService } from '@fulcrum/schemas';
import { Registry } from 'prom-client';
import { type CheckerRequest, percentile, send, wallMs } from './ipc.js';

// Child process: the Fulcrum engine checking N real servers with TCP checks, as the app runs it
// (real probes, Prometheus metrics), reporting down transitions and latency figures to the orchestrator.

const [base, count, intervalS] = process.argv.slice(2).map(Number) as [number, number, number];
const PER_SERVICE = 100;

const services: VirtualService[] = [];
for (let first = 0; first < count; first += PER_SERVICE) {
  services.push(
    virtualService.parse({
      kind: 'virtual-service',
      id: `bench-${first / PER_SERVICE}`,
      match: { kind: 'address', protocol: 'tcp', address: '10.200.0.1', port: 10_000 + first / PER_SERVICE },
      healthChecks: [{ type: 'tcp', interval: intervalS, connectTimeout: 1, retries: 0 }],
      realServers: Array.from({ length: Math.min(PER_SERVICE, count - first) }, (_, i) => ({ address: '127.0.0.1', port: base + first + i })),
    }),
  );
}

const latencies = new Float64Array(4_000_000);
let recorded = 0;
let recording = false;
let failures = 0;
let maxWaiting = 0;

const metrics = new HealthMetrics(new Registry());
const observer: EngineObserver = {
  checkDone(type: HealthCheckType, result: CheckResult): void {
    metrics.checkDone(type, result);
    if (!recording) return;
    if (recorded < latencies.length) latencies[recorded++] = result.latencyMs;
    if (!result.ok) failures += 1;
  },
  serverState: (vs: string, rs: Endpoint, state: Health) => metrics.serverState(vs, rs, state),
  serverRemoved: (vs: string, rs: Endpoint) => metrics.serverRemoved(vs, rs),
  waiting(n: number): void {
    metrics.waiting(n);
    if (n > maxWaiting) maxWaiting = n;
  },
};

const engine = new HealthEngine({
  observer,
  onReport: (r) => {
    if (r.state === 'down') send({ cmd: 'down', port: r.realServer.port, at: wallMs(), reason: r.reason });
  },
});
engine.setTargets(serverTargets(services).targets);
send({ cmd: 'ready', servers: engine.size });

process.on('message', (msg: CheckerRequest) => {
  if (msg.cmd === 'window-start') {
    recorded = 0;
    failures = 0;
    maxWaiting = 0;
    recording = true;
  } else {
    recording = false;
    const n = recorded;
    send({
      cmd: 'window',
      checks: n,
      failures,
      maxWaiting,
      p50Ms: percentile(latencies, n, 50),
      p99Ms: percentile(latencies, n, 99),
      maxMs: percentile(latencies, n, 100),
    });
  }
});
process.on('disconnect', () => {
  engine.stop();
  // exit() rather than a hard kill, so that --cpu-prof can write its profile.
  process.exit(0);
});
