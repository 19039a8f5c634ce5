#!/usr/bin/env node
// Runs the TypeScript entry point through tsx's loader: the apps ship as source, with no build step.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// Each raw socket's blocking receive holds one libuv pool thread; leave room for fs and DNS work.
process.env.UV_THREADPOOL_SIZE ??= '16';
register({ tsconfig: fileURLToPath(new URL('../../../tsconfig.base.json', import.meta.url)) });
await import('../src/main.ts');
