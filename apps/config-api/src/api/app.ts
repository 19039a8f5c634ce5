import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { formatIssues } from '@fulcrum/schemas';
import type { Logger } from 'pino';
import { type ZodType, z } from 'zod';
import type { FailureLimiter, Principal, Role, TokenVerifier } from '../auth/tokens.js';
import { roleAllows } from '../auth/tokens.js';
import type { DesiredService } from '../state/desired-service.js';
import { ApiError, ERROR_CODES, type ErrorCode, ValidationError } from './errors.js';
import { parseJsonStrict } from './json-body.js';
import type { CommandSender, EventFeed, StatusSource } from './live.js';
import { registerLiveRoutes } from './live-routes.js';
import { registerOperationRoutes } from './operation-routes.js';
import { registerResourceRoutes } from './resource-routes.js';
import { registerTransferRoutes } from './transfer-routes.js';

export interface AppOptions {
  desired: DesiredService;
  tokens: TokenVerifier;
  limiter: FailureLimiter;
  logger: Logger;
  commands?: CommandSender;
  status?: StatusSource;
  events?: EventFeed;
  /** Largest request body in bytes (an import of a big keepalived.conf fits in the default 4 MiB). */
  bodyLimit?: number;
  /** Serve the OpenAPI document at /openapi.json and the browsable UI at /docs. */
  docs?: boolean;
  https?: { key: Buffer; cert: Buffer };
  version?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** The least role that may call the route; absent = public. */
    role?: Role;
  }
}

const passThrough = (data: unknown) => ({ value: data });

/**
 * Params and query strings are checked with their zod schemas (named in the route for the OpenAPI document);
 * bodies are checked by the routes with the contract's own messages, so their schemas only document them.
 */
function validatorCompiler({ schema, httpPart }: { schema: unknown; httpPart?: string }) {
  if (httpPart === 'body' || !(schema instanceof z.ZodType)) return passThrough;
  const zschema = schema as ZodType;
  return (data: unknown) => {
    const result = zschema.safeParse(data, { reportInput: true });
    if (result.success) return { value: result.data };
    const where = httpPart === 'querystring' ? 'query' : (httpPart ?? 'request');
    return { error: new ValidationError(formatIssues(result.error).map((i) => ({ path: i.path ? `${where}.${i.path}` : where, message: i.message }))) };
  };
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_REQUEST',
};

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit ?? 4 * 1024 * 1024,
    ...(opts.https ? { https: opts.https } : {}),
    // Operations and refusals are logged by the routes and the auth hook; one line per request is noise.
    logController: new LogController({ disableRequestLogging: true }),
    // Huge or odd URLs are refused by the router with a 414/404 instead of reaching a route.
    routerOptions: { maxParamLength: 200 },
  });
  app.setValidatorCompiler(validatorCompiler);

  app.removeAllContentTypeParsers();
  const json = (_req: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void) => {
    try {
      done(null, parseJsonStrict(body));
    } catch (err) {
      done(err as Error);
    }
  };
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'string' }, json);
  app.addContentTypeParser(['text/plain', 'application/yaml', 'text/yaml', 'application/x-yaml'], { parseAs: 'string' }, (_r, body, done) =>
    done(null, body),
  );

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) {
      if (typeof err.extra.retryAfterSeconds === 'number') void reply.header('retry-after', String(err.extra.retryAfterSeconds));
      return reply.code(err.statusCode).send({ code: err.code, message: err.message, errors: err.errors, ...err.extra });
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code = FASTIFY_CODES[err.code] ?? (status === 404 ? 'NOT_FOUND' : status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_REQUEST');
      return reply.code(status).send({ code, message: err.message, errors: [{ path: '', message: err.message }] });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ code: 'INTERNAL', message: ERROR_CODES.INTERNAL, errors: [] });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]?.slice(0, 200)}`, errors: [] }),
  );

  // Authentication first, before the body is read: an unknown caller never costs a parse.
  app.addHook('onRequest', async (req) => {
    const need = req.routeOptions.config.role;
    if (need === undefined) return;
    const address = req.ip;
    const wait = opts.limiter.blockedFor(address);
    if (wait > 0) {
      throw new ApiError(429, 'TOO_MANY_FAILURES', `too many failed authentications from ${address}; retry in ${Math.ceil(wait / 1000)} s`, [], {
        retryAfterSeconds: Math.ceil(wait / 1000),
      });
    }
    const header = req.headers.authorization;
    const m = header === undefined ? null : /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
    const principal = m?.[1] === undefined ? null : await opts.tokens.verify(m[1]);
    if (!principal) {
      opts.limiter.fail(address);
      req.log.warn({ address, route: req.routeOptions.url }, header === undefined ? 'request without a token' : 'unknown token');
      throw new ApiError(401, 'UNAUTHORIZED', header === undefined ? 'send "Authorization: Bearer <token>"' : 'the token is not known');
    }
    if (!roleAllows(principal.role, need)) {
      throw new ApiError(403, 'FORBIDDEN', `${principal.name} has the ${principal.role} role; this needs ${need}`);
    }
    req.principal = principal;
  });

  if (opts.docs !== false) {
    const swagger = (await import('@fastify/swagger')).default;
    const swaggerUi = (await import('@fastify/swagger-ui')).default;
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Fulcrum config-api',
          version: opts.version ?? '0',
          description:
            'The desired state of the Fulcrum load balancer: validated, versioned (ETag / If-Match), written in transactions. ' +
            `Error codes: ${Object.entries(ERROR_CODES).map(([c, d]) => `${c}: ${d}`).join(' ')}`,
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      },
      transform: jsonSchemaTransform,
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  }

  registerResourceRoutes(app, opts.desired);
  registerTransferRoutes(app, opts.desired);
  registerOperationRoutes(app, opts.desired, opts.commands);
  registerLiveRoutes(app, opts.desired, opts.status, opts.events);
  return app;
}
