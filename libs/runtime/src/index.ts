export { ConfigError, ServiceError, UsageError, type ConfigProblem } from './errors.js';
export { DEFAULT_ENV_PREFIX, loadConfig, type LoadConfigOptions, type LoadedConfig } from './config.js';
export {
  LOG_LEVELS,
  defaultHostName,
  hostConfig,
  logConfig,
  natsConfig,
  serviceConfig,
  statusConfig,
  type LogConfig,
  type LogLevel,
  type NatsConfig,
  type ServiceConfig,
  type StatusConfig,
} from './service-config.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { REDACTED, SECRET_KEYS, redactSecrets } from './redact.js';
export { createStatusServer, type ReadinessCheck, type StatusServer, type StatusServerOptions } from './status-server.js';
export { ShutdownStack, type Closer, type ShutdownResult } from './shutdown.js';
export {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  createService,
  nodeProcess,
  type ProcessEvent,
  type ProcessHooks,
  type Service,
  type ServiceOptions,
} from './service.js';
export {
  COMMON_OPTIONS,
  parseCommandLine,
  type CommandLineSpec,
  type CommandSpec,
  type OptionSpec,
  type OptionValues,
  type ParsedCommandLine,
} from './command-line.js';
export { configKeys, formatHelp, type ConfigKeyDoc, type HelpInfo } from './help.js';
export {
  packageVersion,
  processIo,
  runCommands,
  runService,
  type AppCommand,
  type AppDefinition,
  type AppIo,
  type CommandContext,
  type RunArgs,
} from './run-app.js';
export {
  busAuth,
  connectServiceBus,
  connectServiceBusInBackground,
  type BackgroundBus,
  type BackgroundBusOptions,
  type BusService,
} from './service-bus.js';
