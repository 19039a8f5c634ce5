export interface QemuPlan {
  vmlinux: string;
  initramfs: string;
  memMb: number;
  cpus: number;
  kvm: boolean;
  /** The run's control directory: stage2.sh in, `up` and `status` out. */
  controlDir: string;
  results: string | null;
  /** The console on the terminal (raw, Ctrl-A x quits) instead of a pipe. */
  interactive: boolean;
  /** Host loopback ports to forward into the guest (a user-mode network device only when there are some). */
  forwards?: readonly { hostPort: number }[];
}

/** The guest's address on qemu's user-mode network; each forwarded host port arrives there on the same port. */
export const guestForwardAddress = '10.0.2.15';

function share(id: string, path: string, readonly: boolean): string[] {
  // multidevs=remap: the host root spans several filesystems; without it inode numbers collide
  // and the guest saw sysfs content under /proc.
  const fsdev = `local,id=${id},path=${path},security_model=none,multidevs=remap${readonly ? ',readonly=on' : ''}`;
  return ['-fsdev', fsdev, '-device', `virtio-9p-pci,fsdev=${id},mount_tag=${id}`];
}

/**
 * qemu-system-x86_64's arguments: q35 with the uncompressed kernel booted through PVH (no
 * SeaBIOS), one vCPU by default (a second helps only on an idle multi-core host), no network device,
 * the serial console on stdio, and three 9p shares (the host root read-only, the control
 * directory, the results directory).
 */
export function qemuArgs(plan: QemuPlan): string[] {
  // Paths with a comma would be split by qemu's option parser.
  for (const p of [plan.controlDir, plan.results]) {
    if (p?.includes(',')) throw new Error(`qemu cannot share a path with a comma: ${p}`);
  }
  const args = [
    '-M', 'q35',
    '-accel', plan.kvm ? 'kvm' : 'tcg',
    '-m', String(plan.memMb),
    '-smp', String(plan.cpus),
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-no-reboot',
    '-kernel', plan.vmlinux,
    '-initrd', plan.initramfs,
    // no_timer_check: under a loaded TCG host the IO-APIC timer check fails spuriously and prints.
    '-append', 'console=ttyS0 quiet panic=-1 no_timer_check',
    ...share('hostroot', '/', true),
    ...share('fulcrumctl', plan.controlDir, false),
    ...(plan.results ? share('fulcrumresults', plan.results, false) : []),
  ];
  if (plan.forwards?.length) {
    // restrict=on: the guest reaches nothing outside; only the host's forwarded loopback ports come in.
    const fwd = plan.forwards.map((f) => `,hostfwd=tcp:127.0.0.1:${f.hostPort}-${guestForwardAddress}:${f.hostPort}`).join('');
    args.push('-netdev', `user,id=fwd,restrict=on${fwd}`, '-device', 'virtio-net-pci,netdev=fwd');
  }
  if (plan.interactive) {
    // signal=off: Ctrl-C goes to the guest's shell, not to qemu.
    args.push('-chardev', 'stdio,id=console,mux=on,signal=off', '-serial', 'chardev:console', '-mon', 'chardev=console');
  } else {
    args.push('-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console', '-monitor', 'none');
  }
  return args;
}
