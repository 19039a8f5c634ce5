export { CONNECTION_COMMANDS, FORWARDED, type CommandInfo } from './commands.js';
export { configSchema, proxySettings, STATUS_PORT, type ProxySettings, type SessionStoreProxyConfig } from './config.js';
export { SessionProxy, type ProxyOptions } from './proxy.js';
export { DEFAULT_LIMITS, RequestParser, RespProtocolError, encode, type ParserLimits, type Reply } from './resp.js';
export { rewrite, type RewriteContext } from './rewrite.js';
export { startSessionStoreProxy, type StartedProxy } from './start.js';
export { UpstreamPool, type MasterAddress } from './upstream.js';
export { ReplyScanner, RespReplyError, type ScannerLimits } from './reply-scanner.js';
