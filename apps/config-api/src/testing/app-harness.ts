import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type CommandReply, type DesiredObject, type FulcrumEvent, SECRET_PATHS, okReply } from '@fulcrum/schemas';
import { pino } from 'pino';
import { buildApp } from '../api/app.js';
import type { CommandSender, EventFeed } from '../api/live.js';
import { FailureLimiter, TokenVerifier, hashToken } from '../auth/tokens.js';
import { DesiredService } from '../state/desired-service.js';
import { MemoryDesiredRepo } from '../state/memory-repo.js';

// An API on in-memory doubles for route specs: the desired state in memory, tokens for each role, recorded
// commands and a hand-fed event feed. Cheap scrypt parameters keep specs fast; production uses N = 16384.

export const TOKENS = { reader: 'reader-token-0123456789', operator: 'operator-token-0123456789', admin: 'admin-token-0123456789' } as const;

export interface Harness {
  app: FastifyInstance;
  repo: MemoryDesiredRepo;
  logs: Record<string, unknown>[];
  sent: { subject: string; host: string; request: unknown }[];
  replies: Map<string, CommandReply>;
  status: FulcrumEvent[];
  emit(event: FulcrumEvent): void;
  as(role: keyof typeof TOKENS, opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** The stored state as text, to check that a refused request changed nothing. */
  stateText(): string;
}

export async function startHarness(opts: { objects?: DesiredObject[]; authLimit?: number } = {}): Promise<Harness> {
  const repo = new MemoryDesiredRepo(opts.objects ?? []);
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug', redact: { paths: [...SECRET_PATHS], censor: '[redacted]' } }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const params = { N: 1024, r: 8, p: 1 };
  const tokens = new TokenVerifier(
    await Promise.all(Object.entries(TOKENS).map(async ([role, token]) => ({ name: `${role}-user`, role: role as keyof typeof TOKENS, hash: await hashToken(token, params) }))),
  );
  const sent: Harness['sent'] = [];
  const replies = new Map<string, CommandReply>();
  const commands: CommandSender = {
    async send(subject, host, request) {
      sent.push({ subject: subject.name, host, request });
      return replies.get(`${subject.name}|${host}`) ?? okReply(`done on ${host}`);
    },
  };
  const listeners = new Set<(e: FulcrumEvent) => void>();
  const feed: EventFeed = {
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const status: FulcrumEvent[] = [];
  const app = await buildApp({
    desired: new DesiredService(repo),
    tokens,
    limiter: new FailureLimiter(opts.authLimit ?? 1000, 60_000),
    logger,
    commands,
    status: { all: async () => status },
    events: feed,
    bodyLimit: 256 * 1024,
  });
  return {
    app,
    repo,
    logs,
    sent,
    replies,
    status,
    emit: (e) => listeners.forEach((l) => l(e)),
    as: (role, o) => app.inject({ ...o, headers: { authorization: `Bearer ${TOKENS[role]}`, ...(o.headers ?? {}) } }),
    stateText: () => JSON.stringify([...repo.snapshot().objects.values()]),
  };
}
