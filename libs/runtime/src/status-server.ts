import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ServiceError } from './errors.js';

/** A readiness check passes when it returns/resolves true; false, a throw or a timeout fails it. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface StatusServerOptions {
  registry: Registry;
  logger: Logger;
  /** Defaults to 127.0.0.1: the status endpoints are for the local Prometheus and probes. */
  address?: string;
  /** 0 = any free port. */
  port: number;
  /** How long one readiness check may take before it counts as failed. */
  checkTimeoutMs?: number;
}

export interface Readiness {
  ready: boolean;
  failing: string[];
  checks: Record<string, boolean>;
}

export interface StatusServer {
  /** Adds a named condition /readyz requires (e.g. `bus`, `ipvs`); the name is shown when it fails. */
  addReadinessCheck(name: string, check: ReadinessCheck): void;
  /** Runs every readiness check; `failing` lists the names that did not pass, `checks` each result by name. */
  readiness(): Promise<Readiness>;
  listen(): Promise<{ address: string; port: number; url: string }>;
  close(): Promise<void>;
}

/**
 * The small HTTP server every service runs: `/healthz` (the process answers), `/readyz` (200 only
 * when every readiness check passes, else 503 naming the failing ones) and `/metrics` (Prometheus).
 */
export function createStatusServer(options: StatusServerOptions): StatusServer {
  const checks = new Map<string, ReadinessCheck>();
  const timeoutMs = options.checkTimeoutMs ?? 2_000;
  const log = options.logger;
  let server: Server | undefined;

  async function runCheck(check: ReadinessCheck): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return (await Promise.race([Promise.resolve().then(check), timeout])) === true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async function readiness() {
    const entries = [...checks.entries()];
    const results = await Promise.all(entries.map(([, check]) => runCheck(check)));
    const failing = entries.filter((_, i) => !results[i]).map(([name]) => name);
    return { ready: failing.length === 0, failing, checks: Object.fromEntries(entries.map(([name], i) => [name, results[i] === true])) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }), { allow: 'GET, HEAD' });
    }
    switch (path) {
      case '/healthz':
        return send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
      case '/readyz': {
        const { ready, failing } = await readiness();
        return send(res, ready ? 200 : 503, 'application/json', JSON.stringify({ ready, failing }));
      }
      case '/metrics':
        return send(res, 200, options.registry.contentType, await options.registry.metrics());
      default:
        return send(res, 404, 'application/json', JSON.stringify({ error: 'not found', paths: ['/healthz', '/readyz', '/metrics'] }));
    }
  }

  return {
    addReadinessCheck(name, check) {
      if (checks.has(name)) throw new ServiceError(`readiness check ${JSON.stringify(name)} is already registered`);
      checks.set(name, check);
    },
    readiness,
    listen() {
      if (server) throw new ServiceError('status server is already listening');
      const s = createServer((req, res) => {
        handle(req, res).catch((err: unknown) => {
          log.error({ err, path: req.url }, 'status request failed');
          if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: 'internal error' }));
          else res.destroy();
        });
      });
      server = s;
      // Keep-alive connections from a scraper must not hold up shutdown.
      s.keepAliveTimeout = 5_000;
      const where = `${options.address ?? '127.0.0.1'}:${options.port}`;
      return new Promise((resolve, reject) => {
        const fail = (err: NodeJS.ErrnoException) => {
          server = undefined;
          const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EADDRNOTAVAIL' ? 'no such local address' : err.message;
          reject(new ServiceError(`status server cannot listen on ${where}: ${why} (see status.address, status.port)`, { cause: err }));
        };
        s.once('error', fail);
        s.listen(options.port, options.address ?? '127.0.0.1', () => {
          s.off('error', fail);
          const { address, port } = s.address() as AddressInfo;
          const host = address.includes(':') ? `[${address}]` : address;
          resolve({ address, port, url: `http://${host}:${port}` });
        });
      });
    },
    close() {
      const s = server;
      server = undefined;
      if (!s) return Promise.resolve();
      return new Promise((resolve, reject) => {
        s.close((err) => (err ? reject(err) : resolve()));
        s.closeAllConnections();
      });
    },
  };
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
