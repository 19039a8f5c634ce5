#!/usr/bin/env node
// `npm run demo [-- --keep]`: see tools/demo/src/cli/main.ts. A shim that loads the TypeScript through tsx.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../../../tsconfig.base.json', import.meta.url)) });
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.exit(code));
