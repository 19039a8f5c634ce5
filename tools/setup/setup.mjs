#!/usr/bin/env node
// One-command set-up for a fresh Debian machine (run as root), idempotent:
//   - Debian packages the tests and the demo use (installed only when missing, daemons not auto-started)
//   - npm packages (npm ci, only when package-lock.json changed since the last install)
//   - the lab kernel and initramfs (tools/lab/prepare.mjs), unless --no-lab
//   - the apps' bundles that deploy/systemd runs (tools/setup/build.mjs), rebuilt when a source is newer
// Plain Node with no dependencies: it runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = new Set(process.argv.slice(2));
const log = (msg) => process.stderr.write(`setup: ${msg}\n`);

// Every Debian package a test, benchmark or the demo starts. Keep sorted.
export const debianPackages = [
  'busybox-static', // lab initramfs, ping in namespaces
  'cpio', // lab initramfs
  'dnsmasq-base', // DNS server for the health-checker's DNS check specs
  'haproxy', // health-check benchmark reference
  'iproute2', // ip netns, veth, bridges
  'ipvsadm', // independent oracle of the kernel's IPVS table
  'keepalived', // VRRP interop peer and failover reference
  'kmod', // depmod for the lab kernel's modules
  'linux-libc-dev', // linux/ip_vs.h
  'mariadb-server', // replication-monitor
  'nats-server', // the bus (JetStream)
  'nginx', // real servers
  'nutcracker', // twemproxy, the session-store benchmark's reference
  'opensmtpd', // SMTP server for the health-checker's SMTP check specs
  'openssl', // certificates for the HTTPS check specs
  'php-cli', // PHP's own Redis session handler through the session-store proxy
  'php-redis',
  'procps',
  'python3', // VRRP interop spec's raw-socket helpers
  'qemu-system-x86', // the lab VM
  'redis-sentinel', // session-store failover specs
  'redis-server', // session store
  'redis-tools', // redis-cli, redis-benchmark
  'systemd', // systemd-analyze verify of the deploy/ units
  'wrk', // load through the VIP
  'xz-utils', // extracting the lab kernel
];

function missingPackages(pkgs) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...pkgs], { encoding: 'utf8' });
  const installed = new Set(
    r.stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]),
  );
  return pkgs.filter((p) => !installed.has(p));
}

function installDebian() {
  const missing = missingPackages(debianPackages);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages (run as root to install): ${missing.join(' ')}`);
  log(`installing Debian packages: ${missing.join(' ')}`);
  // Tests start their own servers: keep the packages' daemons from starting on install.
  const policy = '/usr/sbin/policy-rc.d';
  const hadPolicy = existsSync(policy);
  if (!hadPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    });
  } finally {
    if (!hadPolicy) unlinkSync(policy);
  }
  const still = missingPackages(missing);
  if (still.length) throw new Error(`apt-get did not install: ${still.join(' ')}`);
}

function installNpm() {
  const lock = readFileSync(join(root, 'package-lock.json'));
  const digest = createHash('sha256').update(lock).digest('hex');
  const stamp = join(root, 'node_modules', '.fulcrum-lock-sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  // A fresh clone gets exactly the lock file (npm ci). A working checkout is brought up to date in
  // place (npm install): npm ci would first delete node_modules under anything running from it.
  const fresh = !existsSync(join(root, 'node_modules'));
  const verb = fresh ? 'ci' : 'install';
  log(`installing npm packages (npm ${verb})`);
  execFileSync('npm', [verb, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  writeFileSync(stamp, digest);
}

async function prepareLab() {
  const prepare = join(root, 'tools', 'lab', 'prepare.mjs');
  if (!existsSync(prepare)) return;
  const mod = await import(prepare);
  await mod.prepareLab({ log });
}

try {
  installDebian();
  installNpm();
  if (!args.has('--no-lab')) await prepareLab();
  const { build } = await import('./build.mjs');
  await build({ log });
} catch (err) {
  log(`failed: ${err.message}`);
  process.exit(1);
}
