#!/usr/bin/env node
// The lab command: `node tools/lab/bin/lab.mjs [options] -- <command>` or `--shell`; see
// tools/lab/README.md. A shim that loads the TypeScript implementation through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Exit at once: nothing of the run is left to wait for, and stdout has been written in order.
process.stdout.write('', () => process.exit(code));
