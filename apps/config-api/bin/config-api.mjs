#!/usr/bin/env node
// Runs the TypeScript entry point through tsx's loader: the apps ship as source, with no build step.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../../../tsconfig.base.json', import.meta.url)) });
await import('../src/main.ts');
