export { makeTempDir } from './cleanup.js';
export { canConnect, freePort, HarnessError, startProcess } from './process.js';
export type { ManagedServer, ProcessSpec } from './process.js';
export { startNats } from './nats.js';
export type { NatsAuth, NatsOptions, NatsServer, NatsUser } from './nats.js';
export { startRedis } from './redis.js';
export type { RedisOptions, RedisServer } from './redis.js';
export { startNginx } from './nginx.js';
export type { NginxOptions, NginxServer, NginxSite, NginxSiteOptions } from './nginx.js';
