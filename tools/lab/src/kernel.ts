import { readFileSync } from 'node:fs';
import { runIn } from './netns/process.js';

/** The lab's guest sets FULCRUM_LAB=1 in the environment of the command it runs. */
export function inLab(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.FULCRUM_LAB === '1';
}

/** A kernel spec was started outside the lab VM. */
export class NotInLabError extends Error {
  override readonly name = 'NotInLabError';
  constructor() {
    super(
      'kernel specs run inside the lab VM (this kernel has no IPVS): ' +
        '`npm run lab -- npx vitest run --project kernel`, or `npm test`',
    );
  }
}

/** Throws NotInLabError unless running inside the lab VM; call it first in a kernel spec's beforeAll. */
export function requireLab(env: NodeJS.ProcessEnv = process.env): void {
  if (!inLab(env)) throw new NotInLabError();
}

/** Loads kernel modules (and their dependencies) with modprobe. */
export async function modprobe(...modules: string[]): Promise<void> {
  await runIn(null, ['modprobe', '-a', ...modules]);
}

/** The modules loaded now, from /proc/modules. */
export function loadedModules(): Set<string> {
  return new Set(
    readFileSync('/proc/modules', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ')[0] as string),
  );
}

/** Modules a full director topology uses (veth, bridge, IPVS and its common schedulers). */
export const directorModules = ['veth', 'bridge', 'nf_conntrack', 'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_wlc', 'ip_vs_lc', 'ip_vs_sh', 'ip_vs_mh'];
