import { packageVersion, runCommands } from '@fulcrum/runtime';
import { ENV_PREFIX, configSchema } from './config.js';

await runCommands({
  name: 'fulcrumctl',
  summary: 'operate a Fulcrum installation from the command line',
  version: packageVersion(new URL('../package.json', import.meta.url)),
  configSchema,
  envPrefix: ENV_PREFIX,
  examples: ['fulcrumctl --config ~/.config/fulcrum/fulcrumctl.yaml --check-config'],
});
