import { shellQuote } from '../topology/plan.js';

/** Where the guest mounts the run's control share (see prepare.mjs's initramfs). */
export const guestControlDir = '/run/fulcrum-lab';

export interface GuestPlan {
  kver: string;
  /** The host directory with the kernel's modules (lib/modules/<kver>), seen through the shared root. */
  modulesDir: string;
  cwd: string;
  env: Record<string, string>;
  /** The command, or null for an interactive shell on the console. */
  command: string[] | null;
  /**
   * Give the command a pipe instead of the console for its output, as when the lab's own output
   * is not a terminal: tools then print plain logs instead of redrawing progress over the serial line.
   */
  pipeOutput?: boolean;
  results: string | null;
  /** A script that builds the topology (see upScript), or null. */
  topologyScript: string | null;
  /** A line shown before the shell's prompt (namespaces, how to leave). */
  banner?: string;
  /** Forwarded host ports: a relay from 10.0.2.15:hostPort to guestAddress:guestPort in the root namespace. */
  forwards?: readonly { hostPort: number; guestAddress: string; guestPort: number }[];
  /** node and the relay script, for forwards. */
  relay?: { node: string; script: string };
  terminal?: { rows: number; cols: number } | null;
}

/** Variables passed from the host's environment to the guest's command, when set. */
export const passedEnv = ['TERM', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'CI', 'FORCE_COLOR', 'NO_COLOR', 'NODE_OPTIONS'];

/** The guest command's environment: a sane base, chosen host variables, FULCRUM_*, then --env. */
export function guestEnv(host: NodeJS.ProcessEnv, extra: Record<string, string>, kver: string): Record<string, string> {
  const sbin = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
  const path = (host.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter(Boolean);
  const env: Record<string, string> = {
    PATH: [...path, ...sbin.filter((d) => !path.includes(d))].join(':'),
    HOME: '/root',
    USER: 'root',
    LOGNAME: 'root',
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
  };
  for (const [k, v] of Object.entries(host)) {
    if (v !== undefined && (passedEnv.includes(k) || k.startsWith('FULCRUM_'))) env[k] = v;
  }
  Object.assign(env, extra, { FULCRUM_LAB: '1', FULCRUM_LAB_KERNEL: kver });
  return env;
}

/** A shell command line that runs argv with exactly this environment. */
export function commandLine(env: Record<string, string>, argv: readonly string[]): string {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return ['env', '-i', ...vars, ...argv.map(shellQuote)].join(' ');
}

/**
 * The guest's stage-2 script, run by the host's /bin/sh as pid 1 after the initramfs has switched
 * to the overlaid host root. It finishes the mounts, says "up" through the control share (the host's
 * boot timeout ends there), builds the topology, runs the command, writes its exit status to the
 * control share and powers off. Lines it prints itself start with `fulcrum-lab:`.
 */
export function stage2Script(plan: GuestPlan): string {
  const ctl = guestControlDir;
  const q = shellQuote;
  const lines = [
    '#!/bin/sh',
    `ctl=${ctl}`,
    'say() { echo "fulcrum-lab: $*" >&2; }',
    // Quiet the console first so that the power-off does not print kernel lines after the output.
    'finish() { echo "$1" > $ctl/status; sync; [ -n "$results" ] && umount "$results" 2>/dev/null; echo 0 > /proc/sys/kernel/printk; /bin/busybox poweroff -f; sleep 30; }',
    'fail() { say "$*"; finish 125; }',
    `results=${plan.results ? q(plan.results) : "''"}`,
    'mount -t proc proc /proc || fail "mount /proc"',
    'mount -t sysfs sysfs /sys || fail "mount /sys"',
    'mkdir -p /dev/pts /dev/shm',
    'mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts || fail "mount /dev/pts"',
    'mount -t tmpfs -o mode=1777 tmpfs /dev/shm || fail "mount /dev/shm"',
    '[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx',
    'mkdir -p /run/netns /var/tmp /lib/modules',
    `ln -sfn ${q(plan.modulesDir)} /lib/modules/${q(plan.kver)}`,
    'hostname fulcrum-lab',
    'ip link set lo up || fail "ip link set lo up"',
    'echo up > $ctl/up',
  ];
  if (plan.results) {
    lines.push(
      'mkdir -p "$results"',
      'mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 fulcrumresults "$results" || fail "mount of the results directory $results"',
    );
  }
  if (plan.forwards?.length && plan.relay) {
    // The user-mode network's device (no udev in the guest: eth0) gets qemu's fixed guest address;
    // a relay carries each forwarded port on to its address, which the command makes reachable. Renamed
    // first: the kernel checks a new link's name in the creating namespace too, so an eth0 here made every
    // topology's `link add eth0 netns <node> type veth` fail with "File exists".
    lines.push(
      'modprobe virtio_net || fail "modprobe virtio_net"',
      'ip link set eth0 name labfwd0 && ip addr add 10.0.2.15/24 dev labfwd0 && ip link set labfwd0 up || fail "the forwarding interface (eth0 renamed labfwd0)"',
      ...plan.forwards.map((f) => `${q(plan.relay!.node)} ${q(plan.relay!.script)} 10.0.2.15:${f.hostPort} ${f.guestAddress}:${f.guestPort} </dev/null >/dev/null 2>&1 &`),
    );
  }
  if (plan.topologyScript) {
    lines.push(`sh -e <<'FULCRUM_TOPOLOGY' || fail "building the topology failed"\n${plan.topologyScript.trimEnd()}\nFULCRUM_TOPOLOGY`);
  }
  lines.push(`cd ${q(plan.cwd)} || fail "cd ${plan.cwd.replace(/"/g, '')}"`);
  if (plan.command) {
    // No stdin: the console is not the command's to read, as on a CI runner.
    const run = `${commandLine(plan.env, plan.command)} </dev/null`;
    if (plan.pipeOutput) {
      lines.push(`{ ${run} 2>&1; echo $? > $ctl/rc; } | cat`, 'finish "$(cat $ctl/rc 2>/dev/null || echo 125)"');
    } else {
      lines.push(run, 'finish $?');
    }
  } else {
    const t = plan.terminal;
    lines.push(
      // A shell with job control needs the serial line as its controlling terminal.
      `exec 0<>/dev/ttyS0 1>&0 2>&0`,
      t ? `stty rows ${t.rows} cols ${t.cols} 2>/dev/null` : ':',
      plan.banner ? `printf '%s\\n' ${q(plan.banner)}` : ':',
      commandLine({ ...plan.env, PS1: 'lab:\\w# ' }, ['setsid', '-c', 'bash', '--norc', '-i']),
      'finish $?',
    );
  }
  return `${lines.join('\n')}\n`;
}
