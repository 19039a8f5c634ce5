// Lint: typescript-eslint for the code, Nx module boundaries for the architecture.
// Tags (in each project's package.json "nx.tags"):
//   type:app | type:lib | type:kernel | type:testing | type:tool
//   scope:shared | scope:director | scope:backend | scope:data | scope:control | scope:lab
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const kernelPackages = ['netlink', 'koffi'];

const scopes = (allowTesting, ...tags) => (allowTesting ? [...tags, 'scope:lab'] : tags);

const boundaries = (allowTesting) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      // Only the kernel library may load the native packages that talk to the kernel.
      { sourceTag: 'type:kernel', onlyDependOnLibsWithTags: allowTesting ? ['type:lib', 'type:testing', 'type:tool'] : ['type:lib'] },
      {
        sourceTag: 'type:lib',
        onlyDependOnLibsWithTags: allowTesting ? ['type:lib', 'type:testing', 'type:tool'] : ['type:lib'],
        bannedExternalImports: kernelPackages,
      },
      {
        sourceTag: 'type:app',
        onlyDependOnLibsWithTags: allowTesting
          ? ['type:lib', 'type:kernel', 'type:testing', 'type:tool']
          : ['type:lib', 'type:kernel'],
        bannedExternalImports: kernelPackages,
      },
      {
        sourceTag: 'type:testing',
        onlyDependOnLibsWithTags: ['type:lib', 'type:kernel', 'type:testing'],
        bannedExternalImports: kernelPackages,
      },
      {
        sourceTag: 'type:tool',
        onlyDependOnLibsWithTags: ['type:lib', 'type:kernel', 'type:testing', 'type:tool', 'type:app'],
        bannedExternalImports: kernelPackages,
      },
      // Specs may also use the lab (kernel specs build their namespaces with its topologies).
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: scopes(allowTesting, 'scope:shared') },
      { sourceTag: 'scope:director', onlyDependOnLibsWithTags: scopes(allowTesting, 'scope:shared', 'scope:director') },
      { sourceTag: 'scope:backend', onlyDependOnLibsWithTags: scopes(allowTesting, 'scope:shared', 'scope:backend') },
      { sourceTag: 'scope:data', onlyDependOnLibsWithTags: scopes(allowTesting, 'scope:shared', 'scope:data') },
      { sourceTag: 'scope:control', onlyDependOnLibsWithTags: scopes(allowTesting, 'scope:shared', 'scope:control') },
      { sourceTag: 'scope:lab', onlyDependOnLibsWithTags: ['*'] },
    ],
  },
];

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '.nx/**', '**/*.mjs', '**/*.js', '**/*.cjs', 'vitest.config.ts'],
  },
  ...nx.configs['flat/base'],
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(false),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    // Specs and test helpers may use the test doubles and harnesses.
    files: ['**/*.spec.ts', '**/testing/**/*.ts', 'libs/testing/**/*.ts', 'tools/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(true),
      'no-console': 'off',
    },
  },
  {
    // The CLI talks to people on a terminal.
    files: ['apps/cli/**/*.ts', 'apps/*/src/cli/**/*.ts', 'tools/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
