import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { AppCommand, CommandContext } from '@fulcrum/runtime';
import { UsageError } from '@fulcrum/runtime';
import { parse as parseYaml, stringify } from 'yaml';
import { ApiClient, ApiClientError } from './client.js';
import type { CliConfig } from './config.js';
import { EXIT } from './exit-codes.js';
import { includedFiles } from './includes.js';
import { type Paint, type PlannedChange, choosePaint, renderList, renderPlan } from './render.js';

// The subcommands. Each returns its exit code (exit-codes.ts); API refusals print the API's problems on stderr.

const KINDS: Record<string, string> = {
  vs: 'virtual-services',
  'virtual-service': 'virtual-services',
  'virtual-services': 'virtual-services',
  vrrp: 'vrrp-instances',
  'vrrp-instance': 'vrrp-instances',
  'vrrp-instances': 'vrrp-instances',
  host: 'hosts',
  hosts: 'hosts',
  'session-store': 'session-stores',
  'session-stores': 'session-stores',
  'replication-cluster': 'replication-clusters',
  'replication-clusters': 'replication-clusters',
};

interface Io {
  client: ApiClient;
  out: Writable;
  err: Writable;
  paint: Paint;
  ctx: CommandContext<CliConfig>;
}

type Run = (io: Io) => Promise<number | void>;

function wrap(run: Run): AppCommand<CliConfig>['run'] {
  return async (ctx) => {
    const { api, color } = ctx.config;
    const out = ctx.stdout;
    const err = process.stderr;
    const paint = choosePaint(color, Boolean((out as { isTTY?: boolean }).isTTY), process.env);
    const client = new ApiClient({ url: api.url, token: api.token, timeoutMs: api.timeoutMs });
    try {
      return await run({ client, out, err, paint, ctx });
    } catch (e) {
      if (!(e instanceof ApiClientError)) throw e;
      err.write(`fulcrumctl: ${e.message}\n`);
      for (const p of e.problems) if (p.path !== '' || p.message !== e.message) err.write(`  ${p.path ? `${p.path}: ` : ''}${p.message}\n`);
      const results = (e.body as { results?: { host: string; reply: { ok: boolean; message: string } }[] } | undefined)?.results;
      for (const r of results ?? []) err.write(`  ${r.host}: ${r.reply.ok ? 'ok' : 'failed'}: ${r.reply.message}\n`);
      return e.exitCode;
    }
  };
}

const positional = (ctx: CommandContext<CliConfig>, i: number, what: string): string => {
  const v = ctx.args.positionals[i];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
};
const str = (ctx: CommandContext<CliConfig>, name: string): string | undefined => {
  const v = ctx.args.values[name];
  return typeof v === 'string' ? v : undefined;
};
const flag = (ctx: CommandContext<CliConfig>, name: string): boolean => ctx.args.values[name] === true;

function collection(name: string): string {
  const c = KINDS[name];
  if (!c) throw new UsageError(`unknown kind "${name}" (one of: vs, vrrp, host, session-store, replication-cluster)`);
  return c;
}

/** `ADDRESS:PORT` or `[IPv6]:PORT`. */
function realServer(text: string): { address: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`"${text}" is not ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)`);
  return { address: m[1]!, port: Number(m[2]) };
}

function readObjects(file: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UsageError(`${file} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { objects?: unknown })?.objects;
  if (!Array.isArray(list) || list.some((o) => typeof o !== 'object' || o === null || Array.isArray(o))) {
    throw new UsageError(`${file} must hold a list of objects, or { objects: [...] } as \`fulcrumctl export\` writes it`);
  }
  return list as Record<string, unknown>[];
}

interface Warning {
  file?: string;
  line?: number;
  column?: number;
  path?: string;
  message: string;
}
const ctxErr = process.stderr;

const printJson = (out: Writable, v: unknown) => out.write(`${JSON.stringify(v, null, 2)}\n`);

export const COMMANDS: Record<string, AppCommand<CliConfig>> = {
  ls: {
    summary: 'the virtual services as ipvsadm -Ln shows them, with health per director and VRRP state',
    options: { json: { type: 'boolean', description: 'print JSON instead of the table' } },
    run: wrap(async ({ client, out, paint, ctx }) => {
      const [vs, vrrp] = await Promise.all([
        client.request<{ items: never[] }>('GET', '/v1/virtual-services'),
        client.request<{ items: Record<string, unknown>[] }>('GET', '/v1/vrrp-instances'),
      ]);
      // Status is optional: without agents (or their bucket) the table still shows the desired state.
      const status = await client.request<Parameters<typeof renderList>[1]>('GET', '/v1/status').catch((e: unknown) => {
        if (e instanceof ApiClientError && e.status === 503) return null;
        throw e;
      });
      if (flag(ctx, 'json')) printJson(out, { virtualServices: vs.items, vrrpInstances: vrrp.items, status });
      else out.write(renderList(vs.items, status, vrrp.items, paint));
    }),
  },
  get: {
    summary: 'one object (KIND ID) or all of a kind (KIND), as YAML or JSON; secrets show as [redacted]',
    args: 'KIND [ID]',
    options: { json: { type: 'boolean', description: 'print JSON instead of YAML' } },
    run: wrap(async ({ client, out, ctx }) => {
      const c = collection(positional(ctx, 0, 'KIND (vs, vrrp, host, session-store, replication-cluster)'));
      const id = ctx.args.positionals[1];
      const res = await client.request<{ items?: { object: unknown }[]; object?: unknown }>('GET', `/v1/${c}${id === undefined ? '' : `/${encodeURIComponent(id)}`}`);
      const value = id === undefined ? (res.items ?? []).map((i) => i.object) : res.object;
      if (flag(ctx, 'json')) printJson(out, value);
      else out.write(stringify(value));
    }),
  },
  diff: {
    summary: 'what `apply` would change (exit 0: nothing, 7: differences)',
    options: {
      file: { type: 'string', short: 'f', valueName: 'FILE', description: 'YAML or JSON: a list of objects or { objects: [...] } ("-" = stdin)' },
      prune: { type: 'string', multiple: true, valueName: 'KIND', description: 'also delete stored objects of this kind that the file does not list' },
    },
    run: wrap(async ({ client, out, paint, ctx }) => {
      const file = str(ctx, 'file');
      if (!file) throw new UsageError('diff needs -f FILE');
      const prune = ((ctx.args.values.prune as string[] | undefined) ?? []).map((k) => collection(k).replace(/s$/, ''));
      const plan = await client.request<{ changes: PlannedChange[] }>('POST', '/v1/apply', { objects: readObjects(file), prune, dryRun: true });
      out.write(renderPlan(plan.changes, paint));
      return plan.changes.some((c) => c.action !== 'unchanged') ? EXIT.DIFFERENT : EXIT.OK;
    }),
  },
  apply: {
    summary: 'make the stored objects equal to the file, in one generation; prints the plan first',
    options: {
      file: { type: 'string', short: 'f', valueName: 'FILE', description: 'YAML or JSON: a list of objects or { objects: [...] } ("-" = stdin)' },
      prune: { type: 'string', multiple: true, valueName: 'KIND', description: 'also delete stored objects of this kind that the file does not list' },
      'dry-run': { type: 'boolean', description: 'only print the plan' },
    },
    run: wrap(async ({ client, out, paint, ctx }) => {
      const file = str(ctx, 'file');
      if (!file) throw new UsageError('apply needs -f FILE');
      const prune = ((ctx.args.values.prune as string[] | undefined) ?? []).map((k) => collection(k).replace(/s$/, ''));
      const objects = readObjects(file);
      const plan = await client.request<{ changes: PlannedChange[]; warnings: Warning[] }>('POST', '/v1/apply', { objects, prune, dryRun: true });
      out.write(renderPlan(plan.changes, paint));
      for (const w of plan.warnings) ctxErr.write(`warning: ${w.path}: ${w.message}\n`);
      if (flag(ctx, 'dry-run') || plan.changes.every((c) => c.action === 'unchanged')) return EXIT.OK;
      const done = await client.request<{ generation: number }>('POST', '/v1/apply', { objects, prune });
      out.write(`applied: generation ${done.generation}\n`);
    }),
  },
  drain: {
    summary: 'weight 0 for a real server on every director (existing connections finish)',
    args: 'SERVICE ADDRESS:PORT',
    options: { reason: { type: 'string', valueName: 'TEXT', description: 'why, for the logs and events' } },
    run: wrap(async (io) => operate(io, 'drain')),
  },
  enable: {
    summary: 'undo a drain: the real server gets its configured weight again',
    args: 'SERVICE ADDRESS:PORT',
    options: { reason: { type: 'string', valueName: 'TEXT', description: 'why, for the logs and events' } },
    run: wrap(async (io) => operate(io, 'enable')),
  },
  failover: {
    summary: 'ask the master of a VRRP instance to hand over to a backup',
    args: 'INSTANCE',
    options: { reason: { type: 'string', valueName: 'TEXT', description: 'why, for the logs and events' } },
    run: wrap(async ({ client, out, ctx }) => {
      const id = positional(ctx, 0, 'INSTANCE');
      const reason = str(ctx, 'reason');
      const r = await client.request<{ results: { host: string; reply: { ok: boolean; message: string } }[] }>(
        'POST',
        `/v1/vrrp-instances/${encodeURIComponent(id)}/failover`,
        reason ? { reason } : {},
      );
      for (const x of r.results) out.write(`${x.host}: ${x.reply.message}\n`);
    }),
  },
  import: {
    summary: 'import keepalived.conf or ipvsadm-save text in one generation (warnings by line on stderr)',
    args: 'keepalived|ipvsadm FILE',
    options: {
      host: { type: 'string', valueName: 'HOST', description: 'the director a keepalived.conf is from (its priority); default director1' },
      'dry-run': { type: 'boolean', description: 'only print the plan' },
    },
    run: wrap(async ({ client, out, err, paint, ctx }) => {
      const format = positional(ctx, 0, 'format (keepalived or ipvsadm)');
      if (format !== 'keepalived' && format !== 'ipvsadm') throw new UsageError(`format must be keepalived or ipvsadm, not "${format}"`);
      const file = positional(ctx, 1, 'FILE');
      let text: string;
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
      }
      const q = new URLSearchParams({ format, dryRun: String(flag(ctx, 'dry-run')), ...(str(ctx, 'host') ? { host: str(ctx, 'host')! } : {}) });
      // keepalived.conf from a file goes with the files its includes name (read here, as keepalived would).
      const main = format === 'keepalived' && file !== '-' ? resolve(file) : null;
      const files = main === null ? {} : includedFiles(main, text);
      const r = await client.request<{ changes: PlannedChange[]; warnings: Warning[]; generation: number | null }>(
        'POST',
        `/v1/import?${q.toString()}`,
        Object.keys(files).length > 0 ? { file: main, text, files } : text,
        { text: Object.keys(files).length === 0 },
      );
      for (const w of r.warnings) {
        err.write(w.line !== undefined ? `${w.file ?? file}:${w.line}${w.column === undefined ? '' : `:${w.column}`}: warning: ${w.message}\n` : `warning: ${w.path}: ${w.message}\n`);
      }
      out.write(renderPlan(r.changes, paint));
      if (r.generation !== null) out.write(`imported: generation ${r.generation}\n`);
    }),
  },
  export: {
    summary: 'the desired state as YAML, JSON, keepalived.conf (for one director) or ipvsadm-save',
    options: {
      format: { type: 'string', valueName: 'FORMAT', description: 'yaml (default), json, keepalived, ipvsadm' },
      host: { type: 'string', valueName: 'HOST', description: 'the director a keepalived.conf is for' },
    },
    run: wrap(async ({ client, out, ctx }) => {
      const format = str(ctx, 'format') ?? 'yaml';
      const q = new URLSearchParams({ format, ...(str(ctx, 'host') ? { host: str(ctx, 'host')! } : {}) });
      const body = await client.request<string>('GET', `/v1/export?${q.toString()}`, undefined, { raw: true });
      out.write(body.endsWith('\n') ? body : `${body}\n`);
    }),
  },
  events: {
    summary: 'print events as they happen (one JSON line each when piped)',
    options: {
      follow: { type: 'boolean', short: 'F', description: 'keep streaming (the default; kept for kubectl habits)' },
      type: { type: 'string', valueName: 'TYPES', description: 'comma-separated: health, vrrp-state, ipvs-applied, replication, session-store, heartbeat' },
      object: { type: 'string', valueName: 'NAME', description: 'only events about this service, instance, cluster, store or host' },
      count: { type: 'string', valueName: 'N', description: 'stop after N events' },
    },
    run: wrap(async ({ client, out, paint, ctx }) => {
      const countText = str(ctx, 'count');
      const limit = countText === undefined ? Infinity : Number(countText);
      if (!(limit > 0) || !Number.isInteger(limit === Infinity ? 1 : limit)) throw new UsageError('--count must be a whole number above 0');
      const q = new URLSearchParams({ ...(str(ctx, 'type') ? { type: str(ctx, 'type')! } : {}), ...(str(ctx, 'object') ? { object: str(ctx, 'object')! } : {}) });
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let seen = 0;
      const tty = paint.bold('x') !== 'x';
      await client.stream(`/v1/events${q.size ? `?${q.toString()}` : ''}`, (type, data) => {
        const e = data as { time: string; source: { host: string; service: string }; data: Record<string, unknown> };
        if (tty) out.write(`${paint.dim(e.time)} ${paint.bold(type)} ${e.source.host}/${e.source.service} ${JSON.stringify(e.data)}\n`);
        else out.write(`${JSON.stringify(data)}\n`);
        seen += 1;
        return seen < limit;
      }, ac.signal);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }),
  },
  status: {
    summary: 'observed state: kernel tables per director, health, VRRP, replication, session stores, with ages',
    options: { json: { type: 'boolean', description: 'print JSON' } },
    run: wrap(async ({ client, out, paint, ctx }) => {
      const s = await client.request<Record<string, unknown[]> & { generation: number }>('GET', '/v1/status');
      if (flag(ctx, 'json')) return void printJson(out, s);
      const age = (x: { ageSeconds?: number }) => paint.dim(`${Math.round(x.ageSeconds ?? 0)}s ago`);
      const lines = [`desired generation ${s.generation}`];
      for (const k of s.kernel as { host: string; desiredRevision: number | null; services: number; destinations: number; failures: unknown[]; ageSeconds: number }[]) {
        lines.push(`kernel ${k.host}: revision ${k.desiredRevision ?? '-'}, ${k.services} services, ${k.destinations} destinations${k.failures.length ? paint.red(`, ${k.failures.length} failures`) : ''} ${age(k)}`);
      }
      for (const v of s.vrrp as { instance: string; directors: { host: string; state: string; ageSeconds: number }[] }[]) {
        lines.push(`vrrp ${v.instance}: ${v.directors.map((d) => `${d.host} ${d.state} ${age(d)}`).join(', ') || paint.dim('no reports')}`);
      }
      for (const vs of s.virtualServices as { id: string; realServers: { address: string; port: number; health: { host: string; state: string; ageSeconds: number }[] }[] }[]) {
        for (const rs of vs.realServers) {
          const h = rs.health.map((x) => `${x.host} ${x.state === 'up' ? paint.green('up') : paint.red(x.state)} ${age(x)}`).join(', ');
          lines.push(`health ${vs.id} ${rs.address}:${rs.port}: ${h || paint.dim('no reports')}`);
        }
      }
      for (const r of s.replication as { cluster: string; node: string; state: string; lagSeconds: number | null; ageSeconds: number }[]) {
        lines.push(`replication ${r.cluster}/${r.node}: ${r.state}${r.lagSeconds !== null ? ` lag ${r.lagSeconds}s` : ''} ${age(r)}`);
      }
      for (const r of s.sessionStores as { store: string; host: string; state: string; clients: number; ageSeconds: number }[]) {
        lines.push(`session-store ${r.store} on ${r.host}: ${r.state}, ${r.clients} clients ${age(r)}`);
      }
      for (const r of s.services as { host: string; service: string; ready: boolean; version: string; ageSeconds: number }[]) {
        lines.push(`service ${r.service} on ${r.host}: ${r.ready ? paint.green('ready') : paint.red('not ready')}, version ${r.version} ${age(r)}`);
      }
      out.write(`${lines.join('\n')}\n`);
    }),
  },
};

async function operate({ client, out, ctx }: Io, action: 'drain' | 'enable'): Promise<number | void> {
  const service = positional(ctx, 0, 'SERVICE');
  const rs = realServer(positional(ctx, 1, 'ADDRESS:PORT'));
  const reason = str(ctx, 'reason');
  const r = await client.request<{ results: { host: string; reply: { ok: boolean; message: string } }[] }>(
    'POST',
    `/v1/virtual-services/${encodeURIComponent(service)}/real-servers/${encodeURIComponent(rs.address)}/${rs.port}/${action}`,
    reason ? { reason } : {},
  );
  for (const x of r.results) out.write(`${x.host}: ${x.reply.message}\n`);
}
