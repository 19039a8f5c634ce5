import { Counter, type Registry } from 'prom-client';

/** The bus's counters, registered once per registry (several buses in one process share them). */
export interface BusMetrics {
  /** Messages or stored values dropped because they failed validation, by subject template or bucket. */
  readonly invalidMessages: Counter<'subject'>;
  /** Subscription and service handlers that threw, by subject template. */
  readonly handlerErrors: Counter<'subject'>;
}

function counter(registry: Registry, name: string, help: string): Counter<'subject'> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'subject'>;
  return new Counter({ name, help, labelNames: ['subject'], registers: [registry] });
}

export function busMetrics(registry: Registry): BusMetrics {
  return {
    invalidMessages: counter(registry, 'fulcrum_bus_invalid_messages_total', 'Messages dropped because they failed schema validation'),
    handlerErrors: counter(registry, 'fulcrum_bus_handler_errors_total', 'Message and request handlers that threw'),
  };
}
