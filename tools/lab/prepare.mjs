// Prepares the lab's kernel and initramfs from Debian's packages, without installing anything as
// the host's kernel. Plain Node with no npm dependencies: tools/setup/setup.mjs imports it before
// node_modules exists. Idempotent: a stamp records what was built, and a re-run with the same
// kernel package and recipe returns at once.
//
// Cache layout (FULCRUM_LAB_CACHE, default /var/cache/fulcrum-lab, kept across fresh clones):
//   stamp.json                      { recipe, package, version, kver, vmlinux, initramfs, modules }
//   <kver>/root/lib/modules/<kver>  the package's modules, with depmod's indexes
//   <kver>/vmlinux                  the uncompressed kernel, booted directly through PVH
//   <kver>/initramfs-<recipe>.cpio  busybox + the modules needed to mount the host's root
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export const defaultCacheDir = '/var/cache/fulcrum-lab';

/** Where the lab keeps its kernel: FULCRUM_LAB_CACHE or /var/cache/fulcrum-lab. */
export function labCacheDir(env = process.env) {
  return env.FULCRUM_LAB_CACHE || defaultCacheDir;
}

/** Modules the initramfs loads (with their dependencies) to mount the host's root over 9p. */
export const initramfsModules = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

/**
 * The initramfs's /init (busybox sh). It mounts the host's root read-only over 9p with a tmpfs
 * overlay on top, mounts the run's control share, and hands over to the run's stage-2 script,
 * which the host writes into that share. Any failure is printed with a `fulcrum-lab:` prefix and
 * powers the VM off, so the host sees the reason on the console and never waits on a dead guest.
 */
export const initScript = `#!/bin/busybox sh
b=/bin/busybox
fail() { echo "fulcrum-lab: init failed: $*"; $b sync; $b poweroff -f; $b sleep 30; }
$b mount -t proc proc /proc
$b mount -t devtmpfs devtmpfs /dev
for m in $($b cat /modules.load); do
  $b insmod "/modules/$m" || fail "insmod $m"
done
$b mount -t 9p -o ro,trans=virtio,version=9p2000.L,cache=loose,msize=262144 hostroot /lower || fail "mount of the host root (9p tag hostroot)"
$b mount -t tmpfs -o mode=0755 tmpfs /upper || fail "tmpfs for the overlay"
$b mkdir -p /upper/rw /upper/work
$b mount -t overlay -o lowerdir=/lower,upperdir=/upper/rw,workdir=/upper/work overlay /newroot || fail "overlay root"
# A fresh /run: the host's holds its own network namespaces (/run/netns) and pid files. /tmp stays
# the host's (through the overlay): a checkout under /tmp must be visible in the guest.
$b mount -t tmpfs -o mode=0755 tmpfs /newroot/run || fail "tmpfs /run"
$b mkdir -p /newroot/run/fulcrum-lab
$b mount -t 9p -o trans=virtio,version=9p2000.L,cache=none fulcrumctl /newroot/run/fulcrum-lab || fail "mount of the control share (9p tag fulcrumctl)"
[ -f /newroot/run/fulcrum-lab/stage2.sh ] || fail "no stage2.sh in the control share"
$b mount --move /dev /newroot/dev
$b umount /proc
exec $b switch_root /newroot /bin/sh /run/fulcrum-lab/stage2.sh
fail "switch_root"
`;

const recipeVersion = 1;

/** Identifies the initramfs recipe: a change to /init or the module list rebuilds it. */
export function recipeId() {
  return createHash('sha256')
    .update(`${recipeVersion}\n${initramfsModules.join(' ')}\n${initScript}`)
    .digest('hex')
    .slice(0, 12);
}

/** The kernel package `linux-image-amd64` depends on, from `apt-cache depends` output. */
export function parseImagePackage(aptCacheDepends) {
  for (const line of aptCacheDepends.split('\n')) {
    // The ABI has no flavour in it: 6.1.0-56 (bookworm), 6.12.43+deb13 (trixie); not -cloud or -rt.
    const m = /^\s*Depends:\s*(linux-image-(\d+\.\d+\.\d+[-+][0-9a-z.+]*)-amd64)\s*$/.exec(line);
    if (m) return { package: m[1], abi: m[2], kver: `${m[2]}-amd64` };
  }
  return null;
}

/**
 * The modules to insmod, dependencies first, as paths relative to lib/modules/<kver>, from the
 * text of modules.dep. Builtin modules (absent from modules.dep) are skipped.
 */
export function moduleLoadOrder(modulesDep, wanted, builtin = '') {
  const deps = new Map();
  const byName = new Map();
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    deps.set(path, line.slice(colon + 1).trim().split(/\s+/).filter(Boolean));
    byName.set(moduleName(path), path);
  }
  const builtins = new Set(builtin.split('\n').filter(Boolean).map(moduleName));
  const order = [];
  const seen = new Set();
  const visit = (path, chain) => {
    if (seen.has(path)) return;
    if (chain.includes(path)) throw new Error(`modules.dep has a dependency cycle: ${[...chain, path].join(' -> ')}`);
    for (const dep of deps.get(path) ?? []) visit(dep, [...chain, path]);
    seen.add(path);
    order.push(path);
  };
  for (const name of wanted) {
    const path = byName.get(name.replace(/-/g, '_'));
    if (path) visit(path, []);
    else if (!builtins.has(name.replace(/-/g, '_'))) throw new Error(`module ${name} is not in modules.dep`);
  }
  return order;
}

function moduleName(path) {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/** Offset of the xz stream inside a bzImage, or -1. */
export function findXzPayload(bzImage) {
  return bzImage.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
}

/**
 * A cpio archive in the kernel's "newc" format. Entries: { name, mode, data?, rdev? }, where mode
 * includes the file type bits. Written here rather than with cpio(1) so that /dev/console can be
 * a device node without mknod on the host.
 */
export function newcArchive(entries) {
  const chunks = [];
  const pad4 = (n) => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (n) => n.toString(16).padStart(8, '0');
  let ino = 1;
  for (const e of [...entries, { name: 'TRAILER!!!', mode: 0 }]) {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const rdev = e.rdev ?? [0, 0];
    const header =
      '070701' +
      [ino++, e.mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], name.length, 0].map(hex).join('');
    chunks.push(Buffer.from(header), name, pad4(110 + name.length), data, pad4(data.length));
  }
  return Buffer.concat(chunks);
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

function resolvePackage(log) {
  const ask = () => spawnSync('apt-cache', ['depends', 'linux-image-amd64'], { encoding: 'utf8' });
  let r = ask();
  let found = r.status === 0 ? parseImagePackage(r.stdout) : null;
  if (!found) {
    log('lab: apt-cache does not know linux-image-amd64 yet, running apt-get update');
    run('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'] });
    r = ask();
    found = r.status === 0 ? parseImagePackage(r.stdout) : null;
  }
  return found;
}

function download(pkg, dir, log) {
  const get = () => spawnSync('apt-get', ['download', pkg], { cwd: dir, encoding: 'utf8' });
  let r = get();
  if (r.status !== 0) {
    log(`lab: apt-get download ${pkg} failed (${r.stderr.trim().split('\n').pop()}), running apt-get update`);
    run('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'] });
    r = get();
    if (r.status !== 0) throw new Error(`apt-get download ${pkg} failed: ${r.stderr.trim()}`);
  }
  const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${dir}`);
  return join(dir, deb);
}

function readStamp(cache) {
  try {
    return JSON.parse(readFileSync(join(cache, 'stamp.json'), 'utf8'));
  } catch {
    return null;
  }
}

function stampIsComplete(stamp) {
  return Boolean(stamp && [stamp.vmlinux, stamp.initramfs, stamp.modules].every((p) => p && existsSync(p)));
}

// Directories are built under a temporary name and renamed into place, so that two set-ups
// running at once (several engineers, one machine) never see a half-built kernel.
function publish(tmp, final) {
  try {
    renameSync(tmp, final);
  } catch (err) {
    if (!existsSync(final)) throw err;
    rmSync(tmp, { recursive: true, force: true }); // another set-up got there first
  }
}

function unpackKernel(cache, found, log) {
  const kdir = join(cache, found.kver);
  const root = join(kdir, 'root');
  const modules = join(root, 'lib', 'modules', found.kver);
  if (!existsSync(join(modules, 'modules.dep'))) {
    const tmp = mkdtempSync(join(cache, '.unpack-'));
    try {
      log(`lab: downloading ${found.package}`);
      const deb = download(found.package, tmp, log);
      const version = run('dpkg-deb', ['-f', deb, 'Version']).trim();
      run('dpkg-deb', ['-x', deb, join(tmp, 'root')]);
      run('depmod', ['-b', join(tmp, 'root'), found.kver]);
      writeFileSync(join(tmp, 'root', 'fulcrum-version'), version);
      rmSync(deb);
      mkdirSync(kdir, { recursive: true });
      publish(join(tmp, 'root'), root);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { kdir, root, modules, version: readFileSync(join(root, 'fulcrum-version'), 'utf8').trim() };
}

function extractVmlinux(kdir, root, kver) {
  const out = join(kdir, 'vmlinux');
  if (existsSync(out)) return out;
  const bz = readFileSync(join(root, 'boot', `vmlinuz-${kver}`));
  const at = findXzPayload(bz);
  if (at < 0) throw new Error(`no xz payload in vmlinuz-${kver}: cannot extract vmlinux for a PVH boot`);
  // --single-stream: the bzImage carries trailing bytes after the xz stream.
  const elf = execFileSync('xz', ['-dc', '--single-stream'], { input: bz.subarray(at), maxBuffer: 1 << 30 });
  if (elf.readUInt32BE(0) !== 0x7f454c46) throw new Error(`the xz payload of vmlinuz-${kver} is not an ELF kernel`);
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, elf);
  publish(tmp, out);
  return out;
}

function buildInitramfs(kdir, modules, recipe) {
  const out = join(kdir, `initramfs-${recipe}.cpio`);
  if (existsSync(out)) return out;
  const order = moduleLoadOrder(
    readFileSync(join(modules, 'modules.dep'), 'utf8'),
    initramfsModules,
    readFileSync(join(modules, 'modules.builtin'), 'utf8'),
  );
  const dir = (name) => ({ name, mode: 0o040755 });
  const entries = [
    ...['bin', 'dev', 'proc', 'sys', 'lower', 'upper', 'newroot', 'modules'].map(dir),
    { name: 'dev/console', mode: 0o020600, rdev: [5, 1] },
    { name: 'init', mode: 0o100755, data: Buffer.from(initScript) },
    { name: 'bin/busybox', mode: 0o100755, data: readFileSync('/bin/busybox') },
  ];
  const load = [];
  for (const rel of order) {
    let data = readFileSync(join(modules, rel));
    const base = moduleName(rel) + '.ko';
    // busybox insmod reads plain .ko files only.
    if (rel.endsWith('.xz')) data = execFileSync('xz', ['-dc'], { input: data, maxBuffer: 1 << 28 });
    else if (rel.endsWith('.zst')) data = execFileSync('zstd', ['-dc'], { input: data, maxBuffer: 1 << 28 });
    entries.push({ name: `modules/${base}`, mode: 0o100644, data });
    load.push(base);
  }
  entries.push({ name: 'modules.load', mode: 0o100644, data: Buffer.from(`${load.join('\n')}\n`) });
  const tmp = `${out}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, newcArchive(entries));
  } finally {
    closeSync(fd);
  }
  publish(tmp, out);
  return out;
}

/**
 * Makes sure the lab's kernel, modules and initramfs are in the cache; returns the stamp.
 * Reads only the stamp when a complete build exists (a few milliseconds, no apt, works offline).
 */
export async function prepareLab({ log = () => {}, env = process.env } = {}) {
  const cache = labCacheDir(env);
  if (!existsSync('/bin/busybox')) throw new Error('lab: /bin/busybox is missing (Debian package busybox-static)');
  const recipe = recipeId();
  const stamp = readStamp(cache);
  // A complete build is enough: the kernel need not be the archive's newest, and not asking apt
  // keeps a re-run instant and offline. FULCRUM_LAB_REFRESH=1 looks for a newer kernel package.
  const usable = stampIsComplete(stamp) && stamp.recipe === recipe;
  if (usable && !env.FULCRUM_LAB_REFRESH) return stamp;
  let found;
  try {
    found = resolvePackage(log);
  } catch (err) {
    if (usable) {
      log(`lab: cannot ask apt for the kernel (${err.message.split('\n')[0]}), using ${stamp.package}`);
      return stamp;
    }
    throw err;
  }
  if (!found) throw new Error('lab: apt-cache depends linux-image-amd64 names no linux-image-<abi>-amd64 package');
  if (usable && stamp.package === found.package) return stamp;

  const started = Date.now();
  mkdirSync(cache, { recursive: true });
  const { kdir, root, modules, version } = unpackKernel(cache, found, log);
  const vmlinux = extractVmlinux(kdir, root, found.kver);
  const initramfs = buildInitramfs(kdir, modules, recipe);
  const next = { recipe, package: found.package, version, kver: found.kver, vmlinux, initramfs, modules };
  const tmp = join(cache, `stamp.json.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(tmp, join(cache, 'stamp.json'));
  log(`lab: kernel ${found.package} ${version} ready in ${cache} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  return next;
}

/** The stamp of a prepared lab, or null when prepareLab has not run (or did not finish). */
export function readLabStamp(env = process.env) {
  const stamp = readStamp(labCacheDir(env));
  return stampIsComplete(stamp) ? stamp : null;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const stamp = await prepareLab({ log: (m) => process.stderr.write(`${m}\n`) });
  process.stdout.write(`${JSON.stringify(stamp, null, 2)}\n`);
}
