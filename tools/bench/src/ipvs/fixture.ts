// The table the ipvs benchmarks load, and the lab set-up they share (run.ts, dump.ts, noop-pass.ts):
// one definition, so their figures are for the same table.
import { execFileSync, spawnSync } from 'node:child_process';
import { formatIpvsadmSave } from '@fulcrum/formats';
import { effectiveTable, noOverlays, toTable } from '@fulcrum/ipvs-agent';
import type { VirtualService } from '@fulcrum/schemas';
import { virtualService } from '@fulcrum/schemas';

/** `--sizes 1000x10,10000x5` -> [[1000, 10], [10000, 5]]. */
export const parseSizes = (text: string): [number, number][] => text.split(',').map((s) => s.split('x').map(Number) as [number, number]);

/** The i-th address of a block: base 1 holds the virtual services, base 100 the real servers. */
export const addr = (base: number, i: number) => `10.${base + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

/** `count` TCP wrr services with `dests` direct-routing real servers each, weights 1-5. */
export function services(count: number, dests: number): VirtualService[] {
  return Array.from({ length: count }, (_, i) =>
    virtualService.parse({
      kind: 'virtual-service',
      id: `s${i}`,
      match: { kind: 'address', protocol: 'tcp', address: addr(1, i), port: 80 },
      scheduler: 'wrr',
      forwarding: 'dr',
      realServers: Array.from({ length: dests }, (_, j) => ({ address: addr(100, j * 7919 + i), port: 80, weight: 1 + ((i + j) % 5) })),
    }),
  );
}

/** The ipvsadm-restore input for these services, as ipvsadm-save would print the table the agent builds. */
export const restoreText = (desired: VirtualService[]): string => formatIpvsadmSave(toTable(effectiveTable(desired, noOverlays()).table));

export const sh = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { encoding: 'utf8', input, timeout: 600_000, maxBuffer: 1 << 28 });
export const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
export const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

/** Loads IPVS and makes the destinations routable: a dummy link with a default route in the guest's namespace. */
export function prepareLabKernel(): void {
  sh('modprobe', ['ip_vs', 'ip_vs_wrr', 'dummy']);
  spawnSync('ip', ['link', 'add', 'bench0', 'type', 'dummy']);
  sh('ip', ['link', 'set', 'bench0', 'up']);
  spawnSync('ip', ['addr', 'add', '10.255.255.1/32', 'dev', 'bench0']);
  spawnSync('ip', ['route', 'add', 'default', 'dev', 'bench0']);
}
