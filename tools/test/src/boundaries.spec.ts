import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

// The architecture rule that matters most: only the kernel library may load the native packages
// that talk to the kernel. Lint the same import as if it were written in different projects.
const root = join(import.meta.dirname, '..', '..', '..');
const code = "import netlink from 'netlink';\nexport const handle = netlink;\n";

async function boundaryErrors(filePath: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries', () => {
  beforeAll(() => {
    // The rule reads Nx's cached project graph; make sure it exists and is current.
    execFileSync(join(root, 'node_modules', '.bin', 'nx'), ['show', 'projects'], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false' },
      stdio: 'ignore',
    });
  }, 60_000);

  it('refuses netlink in a shared library', async () => {
    expect(await boundaryErrors('libs/schemas/src/uses-netlink.ts')).toEqual([
      'A project tagged with "type:lib" is not allowed to import "netlink"',
    ]);
  }, 60_000);

  it('allows netlink in the kernel library', async () => {
    expect(await boundaryErrors('libs/netlink/src/uses-netlink.ts')).toEqual([]);
  }, 60_000);
});
