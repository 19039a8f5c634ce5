import type { HealthCheckType } from '@fulcrum/schemas';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { CheckResult, Endpoint, FailReason, Health } from '../checks/index.js';
import type { EngineObserver } from './engine.js';
import { serverKey } from './targets.js';

/** Latency buckets in seconds: loopback checks take well under a millisecond, timeouts take seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Inc = { inc(): void };
type Observe = { observe(v: number): void };

/**
 * The checker's Prometheus metrics: checks run, failures by reason, check latency, state per real
 * server. The labelled children are cached so that a check costs a map lookup, not a label hash.
 */
export class HealthMetrics implements EngineObserver {
  private readonly checks: Counter<'type'>;
  private readonly failures: Counter<'type' | 'reason'>;
  private readonly latency: Histogram<'type'>;
  private readonly state: Gauge<'virtual_service' | 'real_server'>;
  private readonly waitingGauge: Gauge;
  private readonly runs = new Map<HealthCheckType, Inc>();
  private readonly latencies = new Map<HealthCheckType, Observe>();
  private readonly fails = new Map<string, Inc>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.checks = new Counter({ name: 'fulcrum_health_checks_total', help: 'Check rounds run, by check type', labelNames: ['type'], registers });
    this.failures = new Counter({
      name: 'fulcrum_health_check_failures_total',
      help: 'Failed check rounds, by check type and reason',
      labelNames: ['type', 'reason'],
      registers,
    });
    this.latency = new Histogram({
      name: 'fulcrum_health_check_duration_seconds',
      help: 'Time a check round took, by check type',
      labelNames: ['type'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.state = new Gauge({
      name: 'fulcrum_health_real_server_up',
      help: 'Health of each checked real server: 1 up, 0 down',
      labelNames: ['virtual_service', 'real_server'],
      registers,
    });
    this.waitingGauge = new Gauge({
      name: 'fulcrum_health_checks_waiting',
      help: 'Checks due but waiting for a free probe slot (concurrency limit reached)',
      registers,
    });
  }

  checkDone(type: HealthCheckType, result: CheckResult): void {
    let run = this.runs.get(type);
    if (run === undefined) this.runs.set(type, (run = this.checks.labels(type)));
    run.inc();
    let lat = this.latencies.get(type);
    if (lat === undefined) this.latencies.set(type, (lat = this.latency.labels(type)));
    lat.observe(result.latencyMs / 1000);
    if (!result.ok) this.failure(type, result.reason);
  }

  private failure(type: HealthCheckType, reason: FailReason): void {
    const key = `${type} ${reason}`;
    let f = this.fails.get(key);
    if (f === undefined) this.fails.set(key, (f = this.failures.labels(type, reason)));
    f.inc();
  }

  serverState(virtualService: string, realServer: Endpoint, state: Health): void {
    this.state.labels(virtualService, serverKey(virtualService, realServer).slice(virtualService.length + 1)).set(state === 'up' ? 1 : 0);
  }

  serverRemoved(virtualService: string, realServer: Endpoint): void {
    this.state.remove(virtualService, serverKey(virtualService, realServer).slice(virtualService.length + 1));
  }

  waiting(count: number): void {
    this.waitingGauge.set(count);
  }
}
