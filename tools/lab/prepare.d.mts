// Types of prepare.mjs (plain JavaScript: setup.mjs imports it before node_modules exists).

export interface LabStamp {
  /** Identifies the initramfs recipe. */
  recipe: string;
  /** The kernel package, e.g. linux-image-6.1.0-56-amd64. */
  package: string;
  /** The package's version, e.g. 6.1.192-2. */
  version: string;
  /** The kernel release, e.g. 6.1.0-56-amd64. */
  kver: string;
  vmlinux: string;
  initramfs: string;
  /** The unpacked lib/modules/<kver>, with depmod's indexes. */
  modules: string;
}

export const defaultCacheDir: string;
export function labCacheDir(env?: NodeJS.ProcessEnv): string;
export const initramfsModules: string[];
export const initScript: string;
export function recipeId(): string;
export function parseImagePackage(aptCacheDepends: string): { package: string; abi: string; kver: string } | null;
export function moduleLoadOrder(modulesDep: string, wanted: readonly string[], builtin?: string): string[];
export function findXzPayload(bzImage: Buffer): number;
export function newcArchive(
  entries: ReadonlyArray<{ name: string; mode: number; data?: Buffer; rdev?: [number, number] }>,
): Buffer;
export function prepareLab(opts?: { log?: (msg: string) => void; env?: NodeJS.ProcessEnv }): Promise<LabStamp>;
export function readLabStamp(env?: NodeJS.ProcessEnv): LabStamp | null;
