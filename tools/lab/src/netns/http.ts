import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Topology } from '../topology/build.js';
import { CommandError, type LabProcess } from './process.js';

export interface NginxOptions {
  /** Names the process in the topology's logs; default `nginx`. */
  name?: string;
  port?: number;
  /** The text every request gets back (a newline is added), e.g. the real server's name. */
  body: string;
}

/** Builds the nginx.conf of a real server that answers every GET with `body`. */
export function nginxConfig(dir: string, port: number, body: string): string {
  if (!/^[\w .:/-]*$/.test(body)) throw new Error(`nginx body ${JSON.stringify(body)}: use letters, digits, space and _ . : / -`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`);
  return [
    // One process in the foreground: its pid is the one a LabProcess watches and stops.
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    'error_log stderr warn;',
    'events { worker_connections 512; }',
    'http {',
    '  access_log off;',
    ...temp,
    `  server { listen ${port}; location / { default_type text/plain; return 200 "${body}\\n"; } }`,
    '}',
    '',
  ].join('\n');
}

/**
 * Starts Debian's nginx in a node as a real server answering every request with `body`, and
 * waits until it listens. The topology's teardown() stops it.
 */
export async function startNginx(topology: Topology, node: string, opts: NginxOptions): Promise<LabProcess> {
  const port = opts.port ?? 80;
  const dir = mkdtempSync(join(tmpdir(), `fulcrum-nginx-${node}-`));
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, opts.body));
  const p = topology.spawn(node, ['nginx', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], {
    name: opts.name ?? 'nginx',
  });
  void p.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  await p.waitForListen(port);
  return p;
}

const probe = fileURLToPath(new URL('./http-probe.mjs', import.meta.url));

/** A request of httpGetMany failed; `bodies` holds the answers received before it. */
export class HttpProbeError extends Error {
  override readonly name = 'HttpProbeError';
  constructor(
    message: string,
    readonly bodies: string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Sends `count` HTTP GETs from a node, one after the other and each on a new TCP connection (so
 * IPVS schedules each), and returns the response bodies, trimmed, in order. One node process
 * does them all: starting a process per request is slow in the lab VM.
 */
export async function httpGetMany(
  topology: Topology,
  from: string,
  url: string,
  count: number,
  timeoutMs = 5_000,
): Promise<string[]> {
  const argv = [process.execPath, probe, url, String(count), String(timeoutMs)];
  let stdout: string;
  try {
    ({ stdout } = await topology.exec(from, argv, { timeoutMs: 30_000 + count * timeoutMs }));
  } catch (err) {
    if (!(err instanceof CommandError) || !err.stdout.trim()) throw err;
    const parsed = JSON.parse(err.stdout) as { error?: string; bodies: string[] };
    throw new HttpProbeError(`from ${from}: ${parsed.error ?? err.message}`, parsed.bodies, { cause: err });
  }
  return (JSON.parse(stdout) as { bodies: string[] }).bodies;
}

/** How many times each distinct value occurs, e.g. `{ rs1: 75, rs2: 25 }`. */
export function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
