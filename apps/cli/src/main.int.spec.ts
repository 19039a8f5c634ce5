import { describeAppBin, runBin, appBin } from '@fulcrum/runtime/testing';
import { expect, it } from 'vitest';
import { ENV_PREFIX } from './config.js';

describeAppBin({ app: 'cli', bin: 'fulcrumctl', envPrefix: ENV_PREFIX, badInput: true });

it('fulcrumctl without a command says so and exits 2', async () => {
  const r = await runBin(appBin('cli', 'fulcrumctl'), []);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^fulcrumctl: no command given/);
});
