import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError, connectServiceBus, packageVersion, runService } from '@fulcrum/runtime';
import { parse as parseYaml } from 'yaml';
import { buildApp } from './api/app.js';
import { FailureLimiter, TokenVerifier, hashToken, tokensFile } from './auth/tokens.js';
import { configSchema } from './config.js';
import { natsCommands, natsEvents, natsStatus } from './nats-links.js';
import { DesiredService } from './state/desired-service.js';
import { KvDesiredRepo } from './state/kv-repo.js';

const version = packageVersion(new URL('../package.json', import.meta.url));

function loadTokens(file: string | undefined, inline: ReturnType<typeof configSchema.parse>['api']['tokens']) {
  if (file === undefined) return inline;
  const parsed = tokensFile.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return [...inline, ...parsed.data.tokens];
}

await runService(
  {
    name: 'config-api',
    summary: 'validates and versions the desired state; the only writer of the desired-state store',
    version,
    configSchema,
    examples: [
      'config-api --config /etc/fulcrum/config-api.yaml',
      'config-api --config /etc/fulcrum/config-api.yaml --check-config',
      'config-api hash-token --role admin --name alice    # prints a new token and its tokens-file line',
      'FULCRUM_LOG__LEVEL=debug FULCRUM_STATUS__PORT=0 config-api --config ./config-api.yaml',
    ],
    commands: {
      'hash-token': {
        summary: 'make a new bearer token and print it with the line for the tokens file (only the hash is stored)',
        options: {
          name: { type: 'string', description: 'who the token is for', valueName: 'NAME' },
          role: { type: 'string', description: 'reader, operator or admin (default reader)', valueName: 'ROLE' },
        },
        async run({ args, stdout }) {
          const role = String(args.values.role ?? 'reader');
          if (!['reader', 'operator', 'admin'].includes(role)) throw new UsageError(`--role must be reader, operator or admin, not ${role}`);
          const name = String(args.values.name ?? 'operator');
          const token = randomBytes(24).toString('base64url');
          stdout.write(`token: ${token}\n# tokens file entry:\n- name: ${name}\n  role: ${role}\n  hash: ${await hashToken(token)}\n`);
        },
      },
    },
  },
  async (svc) => {
    const { api } = svc.config;
    const tokens = loadTokens(api.tokensFile, api.tokens);
    if (tokens.length === 0) svc.logger.warn('no API tokens are configured: every /v1 request will be refused (see config-api hash-token)');
    const bus = await connectServiceBus(svc);
    const { replicas } = svc.config.store;
    const repo = await KvDesiredRepo.open(bus, svc.logger.child({ component: 'desired-store' }), { replicas });
    svc.onStop('desired store', () => repo.close());
    const events = natsEvents(bus);
    svc.onStop('event feed', async () => events.close());
    const app = await buildApp({
      desired: new DesiredService(repo),
      tokens: new TokenVerifier(tokens),
      limiter: new FailureLimiter(api.authFailures.limit, api.authFailures.windowSeconds * 1000),
      logger: svc.logger,
      commands: natsCommands(bus, api.commandTimeoutMs),
      status: await natsStatus(bus, replicas),
      events,
      bodyLimit: api.bodyLimitBytes,
      docs: api.docs,
      version,
      ...(api.tls ? { https: { cert: readFileSync(api.tls.cert), key: readFileSync(api.tls.key) } } : {}),
    });
    const url = await app.listen({ host: api.address, port: api.port });
    svc.logger.info({ url, tls: api.tls !== undefined }, 'API listening');
    svc.onStop('http', () => app.close());
  },
);
