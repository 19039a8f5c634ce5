import { describe, expect, it } from 'vitest';
import { qemuArgs, type QemuPlan } from './qemu.js';

const plan: QemuPlan = {
  vmlinux: '/c/vmlinux',
  initramfs: '/c/initramfs.cpio',
  memMb: 2048,
  cpus: 1,
  kvm: false,
  controlDir: '/tmp/fulcrum-lab-1-x',
  results: null,
  interactive: false,
};

const after = (args: string[], flag: string) => args.filter((_, i) => args[i - 1] === flag);

describe('qemuArgs', () => {
  it('boots the kernel directly on q35 under TCG with the console on stdio', () => {
    const a = qemuArgs(plan);
    expect(after(a, '-M')).toEqual(['q35']);
    expect(after(a, '-accel')).toEqual(['tcg']);
    expect(after(a, '-kernel')).toEqual(['/c/vmlinux']);
    expect(after(a, '-m')).toEqual(['2048']);
    expect(after(a, '-smp')).toEqual(['1']);
    expect(after(a, '-append')[0]).toContain('console=ttyS0');
    expect(after(a, '-serial')).toEqual(['chardev:console']);
    expect(after(a, '-chardev')).toEqual(['stdio,id=console,signal=off']);
  });

  it('shares the host root read-only and the control directory writable', () => {
    const fsdevs = after(qemuArgs(plan), '-fsdev');
    expect(fsdevs).toEqual([
      'local,id=hostroot,path=/,security_model=none,multidevs=remap,readonly=on',
      'local,id=fulcrumctl,path=/tmp/fulcrum-lab-1-x,security_model=none,multidevs=remap',
    ]);
  });

  it('adds a writable results share only when asked', () => {
    const fsdevs = after(qemuArgs({ ...plan, results: '/work/r' }), '-fsdev');
    expect(fsdevs[2]).toBe('local,id=fulcrumresults,path=/work/r,security_model=none,multidevs=remap');
    expect(after(qemuArgs({ ...plan, results: '/work/r' }), '-device')[2]).toBe('virtio-9p-pci,fsdev=fulcrumresults,mount_tag=fulcrumresults');
  });

  it('multiplexes the monitor for an interactive shell and can use KVM', () => {
    const a = qemuArgs({ ...plan, interactive: true, kvm: true });
    expect(after(a, '-chardev')).toEqual(['stdio,id=console,mux=on,signal=off']);
    expect(after(a, '-mon')).toEqual(['chardev=console']);
    expect(after(a, '-accel')).toEqual(['kvm']);
  });

  it('refuses a path that qemu would split at its comma', () => {
    expect(() => qemuArgs({ ...plan, results: '/work/a,b' })).toThrow('qemu cannot share a path with a comma: /work/a,b');
  });

  it('has no network device unless ports are forwarded, then a restricted user-mode one bound to loopback', () => {
    expect(qemuArgs(plan)).not.toContain('-netdev');
    const a = qemuArgs({ ...plan, forwards: [{ hostPort: 9780 }] });
    expect(after(a, '-netdev')).toEqual(['user,id=fwd,restrict=on,hostfwd=tcp:127.0.0.1:9780-10.0.2.15:9780']);
    expect(after(a, '-device')).toContain('virtio-net-pci,netdev=fwd');
  });
});
