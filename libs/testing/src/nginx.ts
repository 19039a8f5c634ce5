import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeTempDir } from './cleanup.js';
import { canConnect, freePort, startProcess, type ManagedServer } from './process.js';

export interface NginxSiteOptions {
  /** Listen port on 127.0.0.1; a free one when absent. */
  port?: number;
  /** Files served from the site's root: relative path -> content, e.g. { 'index.html': 'real1\n' }. */
  files?: Record<string, string>;
  /** More directives inside the server block, e.g. 'location = /health { return 503; }'. */
  directives?: string;
}

export interface NginxSite {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** The site's document root. */
  readonly root: string;
}

export interface NginxOptions {
  sites: NginxSiteOptions[];
  binary?: string;
}

export interface NginxServer extends ManagedServer {
  readonly sites: readonly NginxSite[];
}

/**
 * Starts Debian's nginx as a single process (no master/workers, so stop and kill are exact) with its
 * own prefix, config, pid file, logs and temp paths in a temp dir, serving each site on 127.0.0.1.
 */
export async function startNginx(opts: NginxOptions): Promise<NginxServer> {
  if (opts.sites.length === 0) throw new Error('startNginx: sites must name at least one site');
  const dir = makeTempDir('nginx');
  chmodSync(dir, 0o755);
  const host = '127.0.0.1';
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'tmp'));
  const sites: NginxSite[] = [];
  const servers: string[] = [];
  for (const [i, site] of opts.sites.entries()) {
    const port = site.port ?? (await freePort(host));
    const root = join(dir, `site-${i}`);
    mkdirSync(root);
    for (const [path, content] of Object.entries(site.files ?? {})) {
      const file = join(root, path);
      if (!file.startsWith(`${root}/`)) throw new Error(`startNginx: sites[${i}].files: ${path} is outside the site root`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
    sites.push({ port, url: `http://${host}:${port}`, root });
    servers.push(`  server {\n    listen ${host}:${port};\n    root ${root};\n    ${site.directives ?? ''}\n  }`);
  }
  const tmp = (name: string) => `${name}_temp_path ${join(dir, 'tmp', name)};`;
  const config = [
    'daemon off;',
    'master_process off;',
    `pid ${join(dir, 'nginx.pid')};`,
    'error_log stderr notice;',
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${join(dir, 'logs', 'access.log')};`,
    '  default_type text/plain;',
    `  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(tmp).join('\n  ')}`,
    ...servers,
    '}',
    '',
  ].join('\n');
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(configPath, config);
  const first = sites[0] as NginxSite;
  const server = await startProcess({
    name: 'nginx',
    command: opts.binary ?? 'nginx',
    // -e: the error log before the config is read; Debian's default is /var/log/nginx.
    args: ['-p', dir, '-c', configPath, '-e', 'stderr'],
    dir,
    host,
    port: first.port,
    ready: async () => (await Promise.all(sites.map((s) => canConnect(host, s.port)))).every(Boolean),
  });
  return Object.assign(server, { sites });
}
