#!/usr/bin/env node
// Builds what the units in deploy/systemd run: each app bundled by esbuild into one ES module,
// apps/<app>/dist/main.mjs. The source (apps/<app>/bin, run through tsx) is for development; a bundle
// starts without compiling TypeScript and reads one file instead of hundreds, which is what makes the
// services start in seconds in the lab VM (a guest under software emulation reading the host over 9p).
//
// Some packages stay outside the bundle and load from node_modules at run time: netlink and koffi (native
// addons), pino-pretty (loaded on demand for a terminal), and the packages that find their own files through
// __dirname, which an ES module bundle does not have (swagger-ui's static files, ioredis's package.json, pino's
// transport workers). A bundle is rebuilt only when a source file is newer.
import { existsSync, readFileSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const apps = ['cli', 'config-api', 'health-checker', 'ipvs-agent', 'replication-monitor', 'session-store-proxy', 'vrrp-agent'];

/** Newest modification time of a .ts file under the apps' and libs' sources (specs included: cheap and safe). */
function newestSource() {
  let newest = statSync(join(root, 'package-lock.json')).mtimeMs;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const top of ['apps', 'libs']) {
    for (const pkg of readdirSync(join(root, top))) {
      const src = join(root, top, pkg, 'src');
      if (existsSync(src)) walk(src);
    }
  }
  return newest;
}

export async function build({ log = () => undefined, force = false, only = apps } = {}) {
  const newest = newestSource();
  const stale = only.filter((a) => {
    const out = join(root, 'apps', a, 'dist', 'main.mjs');
    return force || !existsSync(out) || statSync(out).mtimeMs < newest;
  });
  if (stale.length === 0) return [];
  const { build: esbuild } = await import('esbuild');
  const started = Date.now();
  await Promise.all(
    stale.map((a) =>
      esbuild({
        entryPoints: [join(root, 'apps', a, 'src', 'main.ts')],
        outfile: join(root, 'apps', a, 'dist', 'main.mjs'),
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        tsconfig: join(root, 'tsconfig.base.json'),
        external: ['netlink', 'koffi', 'pino-pretty', 'pino', '@fastify/swagger', '@fastify/swagger-ui', 'ioredis'],
        // Bundled CommonJS packages call require(); an ES module has none of its own.
        banner: {
          js: [
            "import { createRequire as __fulcrumRequire } from 'node:module'; const require = __fulcrumRequire(import.meta.url);",
            // As apps/vrrp-agent/bin does: every raw socket's blocking receive holds one libuv pool thread.
            ...(a === 'vrrp-agent' ? ["process.env.UV_THREADPOOL_SIZE ??= '16';"] : []),
          ].join('\n'),
        },
        sourcemap: 'linked',
        logLevel: 'warning',
      }),
    ),
  );
  for (const a of stale) {
    const out = join(root, 'apps', a, 'dist', 'main.mjs');
    const text = readFileSync(out, 'utf8');
    const m = /\b__(dirname|filename)\b/.exec(text);
    if (m) {
      const from = [...text.slice(0, m.index).matchAll(/^\/\/ (node_modules\/\S+)/gm)].at(-1)?.[1] ?? 'an unknown file';
      unlinkSync(out);
      throw new Error(`apps/${a}: ${from} uses ${m[0]}, which the bundle lacks: add its package to "external" in tools/setup/build.mjs`);
    }
  }
  log(`built ${stale.join(', ')} into apps/*/dist/main.mjs in ${Date.now() - started} ms`);
  return stale;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    // `build.mjs [--force] [app ...]`: only the named apps, when given.
    const named = process.argv.slice(2).filter((a) => !a.startsWith('--'));
    const unknown = named.filter((a) => !apps.includes(a));
    if (unknown.length) throw new Error(`unknown app ${unknown[0]}; apps: ${apps.join(' ')}`);
    await build({ log: (m) => process.stderr.write(`build: ${m}\n`), force: process.argv.includes('--force'), only: named.length ? named : apps });
  } catch (err) {
    process.stderr.write(`build: failed: ${err.message}\n`);
    process.exit(1);
  }
}
