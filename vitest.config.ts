import { defineConfig } from 'vitest/config';

// Four projects: unit specs (no servers), integration specs (real servers started by the
// spec on loopback), kernel specs (run only inside the lab VM, see tools/lab), and the acceptance
// spec of the whole appliance (tools/demo), which npm test runs in a lab VM of its own with more memory and
// two vCPUs (tools/test/run.mjs).
const roots = ['apps', 'libs', 'tools'];
const files = (glob: string) => roots.map((r) => `${r}/**/${glob}`);
const exclude = ['**/node_modules/**', '**/dist/**'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: files('*.spec.ts'),
          exclude: [...exclude, ...files('*.int.spec.ts'), ...files('*.kernel.spec.ts')],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'int',
          include: files('*.int.spec.ts'),
          exclude,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'kernel',
          include: files('*.kernel.spec.ts'),
          // The acceptance spec has its own project and lab VM (below).
          exclude: [...exclude, 'tools/demo/**'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'acceptance',
          include: ['tools/demo/**/*.kernel.spec.ts'],
          exclude,
          testTimeout: 300_000,
          hookTimeout: 1_800_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
