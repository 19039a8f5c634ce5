import { describe, expect, it } from 'vitest';
import { ended, exitLabFailed, exitTimeout, overdue, type Watch } from './verdict.js';

const watch: Watch = { startedAt: 1_000, upAt: null, bootTimeoutMs: 60_000, runTimeoutMs: 3_600_000, kvm: false };

describe('overdue', () => {
  it('lets a guest take its boot timeout to come up', () => {
    expect(overdue(watch, 60_999)).toBeNull();
  });

  it('gives up on a guest that has not come up in time, with the last console lines', () => {
    const f = overdue(watch, 61_000, ['Booting the kernel', '']);
    expect(f?.exitCode).toBe(exitLabFailed);
    expect(f?.reason).toBe(
      'the guest did not come up within 60 s (a loaded host can slow the boot: --boot-timeout raises the limit); last console lines:\n  Booting the kernel',
    );
  });

  it('names the KVM hang when KVM was asked for', () => {
    expect(overdue({ ...watch, kvm: true, bootTimeoutMs: 20_000 }, 21_000)?.reason).toBe(
      'the guest did not come up within 20 s: with --kvm this is the known hang of a stock kernel under a nested (PVM) hypervisor; run without --kvm to use TCG; the console printed nothing',
    );
  });

  it('stops a guest that came up but outran the run timeout, with exit code 124', () => {
    const up = { ...watch, upAt: 5_000, runTimeoutMs: 10_000 };
    expect(overdue(up, 10_999)).toBeNull();
    expect(overdue(up, 11_000)).toEqual({ exitCode: exitTimeout, reason: 'the run took longer than --timeout 10 s; the guest was stopped' });
    expect(overdue({ ...up, runTimeoutMs: null }, 1e9)).toBeNull();
  });
});

describe('ended', () => {
  const base = { status: null, up: true, qemuCode: 0, qemuSignal: null, qemuStderr: '', tail: [] };

  it('is the command\'s exit status when the guest reported one', () => {
    expect(ended({ ...base, status: '3\n' })).toEqual({ exitCode: 3, reason: null });
    expect(ended({ ...base, status: '0' })).toEqual({ exitCode: 0, reason: null });
  });

  it('explains a qemu that failed before the guest came up', () => {
    const e = ended({ ...base, up: false, qemuCode: 1, qemuStderr: 'qemu-system-x86_64: -fsdev ...: cannot open\n' });
    expect(e).toEqual({
      exitCode: exitLabFailed,
      reason: 'qemu exited 1 before the guest came up: qemu-system-x86_64: -fsdev ...: cannot open; the console printed nothing',
    });
  });

  it('explains a guest that powered off before coming up (its init failed)', () => {
    const e = ended({ ...base, up: false, tail: ['fulcrum-lab: init failed: insmod 9p.ko'] });
    expect(e.reason).toBe('the guest powered off before it came up; last console lines:\n  fulcrum-lab: init failed: insmod 9p.ko');
  });

  it('explains a guest that died under the command', () => {
    const e = ended({ ...base, tail: ['Kernel panic - not syncing: Out of memory'] });
    expect(e.exitCode).toBe(exitLabFailed);
    expect(e.reason).toMatch(/^the guest stopped without reporting the command's exit status .*Kernel panic - not syncing: Out of memory$/s);
  });
});
