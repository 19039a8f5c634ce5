export { HealthEngine, EngineError, DEFAULT_MAX_IN_FLIGHT, runPlanned } from './engine/engine.js';
export type { EngineObserver, EngineOptions, HealthReport, RoundRunner } from './engine/engine.js';
export { serverTargets, serverKey, type PlannedCheck, type ServerTarget, type TargetProblem } from './engine/targets.js';
export { HealthMetrics } from './engine/metrics.js';
export { systemClock, type Clock } from './engine/clock.js';
export { HealthLink, type HealthLinkOptions } from './bus-link.js';
export { configSchema, STATUS_PORT, type HealthCheckerConfig } from './config.js';
export * from './checks/index.js';
