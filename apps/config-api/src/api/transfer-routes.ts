import type { FastifyInstance, FastifyRequest } from 'fastify';
import { IpvsadmRestoreError, MAX_INCLUDED_FILES } from '@fulcrum/formats';
import { DESIRED_KINDS, type DesiredKind, desiredKey, isSlug, redactSecrets } from '@fulcrum/schemas';
import { stringify } from 'yaml';
import { z } from 'zod';
import type { DesiredService, Draft, WriteResult } from '../state/desired-service.js';
import { exportIpvsadmSave, importIpvsadmSave } from '../transfer/ipvsadm.js';
import { exportKeepalived, importKeepalived, mergeDirectorView } from '../transfer/keepalived.js';
import { ApiError, ValidationError, badField } from './errors.js';

// Transactions (many changes, one generation), the declarative apply (the desired state as a whole) and
// import/export in keepalived.conf, ipvsadm-save, YAML and JSON.

const kind = z.enum(DESIRED_KINDS as [DesiredKind, ...DesiredKind[]]);
const revision = z.number().int().min(0);
const change = z.discriminatedUnion('op', [
  z.object({ op: z.literal('create'), object: z.record(z.string(), z.unknown()) }).strict(),
  z.object({ op: z.literal('replace'), kind, id: z.string().max(200), object: z.record(z.string(), z.unknown()), ifMatch: revision.optional() }).strict(),
  z.object({ op: z.literal('patch'), kind, id: z.string().max(200), patch: z.record(z.string(), z.unknown()), ifMatch: revision.optional() }).strict(),
  z.object({ op: z.literal('delete'), kind, id: z.string().max(200), ifMatch: revision.optional() }).strict(),
]);
const transactionBody = z.object({ changes: z.array(change).min(1).max(10_000), dryRun: z.boolean().default(false) }).strict();
const applyBody = z
  .object({
    objects: z.array(z.record(z.string(), z.unknown())).max(10_000),
    /** Delete what is stored but not listed (only for the kinds listed in `prune`). */
    prune: z.array(kind).default([]),
    dryRun: z.boolean().default(false),
  })
  .strict();
const importQuery = z
  .object({
    format: z.enum(['keepalived', 'ipvsadm']),
    /** The director this keepalived.conf is from: its priorities are this host's. */
    host: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, { message: 'must be a host name (slug)' }).default('director1'),
    dryRun: z.enum(['true', 'false']).default('false'),
  })
  .strict();
/**
 * keepalived.conf with the files its includes name, as fulcrumctl sends it (application/json): paths as the
 * operator's machine has them (absolute), the text of each. At most MAX_INCLUDED_FILES files.
 */
const keepalivedFilesBody = z
  .object({
    file: z.string().min(1).max(4096).startsWith('/', { message: 'must be an absolute path (relative includes start from its directory)' }),
    text: z.string(),
    files: z
      .record(z.string().min(1).max(4096).startsWith('/', { message: 'must be an absolute path' }), z.string())
      .default({})
      .refine((f) => Object.keys(f).length < MAX_INCLUDED_FILES, { message: `at most ${MAX_INCLUDED_FILES - 1} included files in one import` }),
  })
  .strict();
const exportQuery = z
  .object({
    format: z.enum(['json', 'yaml', 'keepalived', 'ipvsadm']).default('json'),
    host: z.string().max(63).optional(),
  })
  .strict();

const author = (req: FastifyRequest) => req.principal?.name ?? 'unknown';

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body, { reportInput: true });
  if (!r.success) {
    throw new ValidationError(
      r.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, ''), message: i.message })),
    );
  }
  return r.data;
}

const objectKind = (o: Record<string, unknown>, path: string): DesiredKind => {
  const r = kind.safeParse(o.kind);
  if (!r.success) throw badField(`${path}.kind`, `must be one of: ${DESIRED_KINDS.join(', ')}`);
  return r.data;
};

export function summary(result: WriteResult) {
  return {
    generation: result.commit?.generation ?? null,
    committed: result.commit !== undefined,
    warnings: result.warnings.map((w) => ({ path: w.path, message: w.message })),
    changes: result.changes.map((c) => ({
      key: c.key,
      action: c.action,
      revision: result.commit?.revisions[c.key] ?? null,
      ...(c.before ? { before: redactSecrets(c.before) } : {}),
      ...(c.after ? { after: redactSecrets(c.after) } : {}),
    })),
  };
}

/** The objects of an import or an apply as drafts: create what is new, replace what exists. */
function upserts(desired: DesiredService, objects: Record<string, unknown>[], prefix: string): Draft[] {
  return objects.map((o, i) => {
    const k = objectKind(o, `${prefix}[${i}]`);
    const id = String(k === 'host' ? o.name : o.id);
    const exists = isSlug(id) && desired.find(desiredKey(k, id)) !== undefined;
    return exists ? { op: 'replace', kind: k, id, body: o, path: `${prefix}[${i}]` } : { op: 'create', kind: k, body: o, path: `${prefix}[${i}]` };
  });
}

export function registerTransferRoutes(app: FastifyInstance, desired: DesiredService): void {
  app.post(
    '/v1/transactions',
    { config: { role: 'admin' }, schema: { tags: ['transactions'], summary: 'apply many changes as one generation, or none of them', body: transactionBody } },
    async (req) => {
      const body = parseBody(transactionBody, req.body);
      const drafts: Draft[] = body.changes.map((c, i): Draft => {
        const path = `changes[${i}]`;
        switch (c.op) {
          case 'create':
            return { op: 'create', kind: objectKind(c.object, `${path}.object`), body: c.object, path: `${path}.object` };
          case 'replace':
            return { op: 'replace', kind: c.kind, id: c.id, body: c.object, path: `${path}.object`, ...(c.ifMatch === undefined ? {} : { ifMatch: c.ifMatch }) };
          case 'patch':
            return { op: 'patch', kind: c.kind, id: c.id, patch: c.patch, path: `${path}.patch`, ...(c.ifMatch === undefined ? {} : { ifMatch: c.ifMatch }) };
          default:
            return { op: 'delete', kind: c.kind, id: c.id, path, ...(c.ifMatch === undefined ? {} : { ifMatch: c.ifMatch }) };
        }
      });
      return summary(await desired.write(drafts, { author: author(req), dryRun: body.dryRun }));
    },
  );

  app.post(
    '/v1/apply',
    { config: { role: 'admin' }, schema: { tags: ['transactions'], summary: 'make the stored objects equal to these (declarative), in one generation', body: applyBody } },
    async (req) => {
      const body = parseBody(applyBody, req.body);
      const drafts = upserts(desired, body.objects, 'objects');
      const listed = new Set(body.objects.map((o) => `${String(o.kind)}/${String(o.kind === 'host' ? o.name : o.id)}`));
      for (const k of body.prune) {
        for (const s of desired.list(k)) {
          const id = s.key.slice(s.key.indexOf('.') + 1);
          if (!listed.has(`${k}/${id}`)) drafts.push({ op: 'delete', kind: k, id });
        }
      }
      if (drafts.length === 0) return { generation: null, committed: false, warnings: [], changes: [] };
      return summary(await desired.write(drafts, { author: author(req), dryRun: body.dryRun }));
    },
  );

  app.post(
    '/v1/import',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['transfer'],
        summary:
          'import keepalived.conf or ipvsadm-save text (text/plain body) in one generation; keepalived.conf with the files its includes name as JSON {file, text, files}',
        querystring: importQuery,
      },
    },
    async (req) => {
      const q = req.query as z.infer<typeof importQuery>;
      const withFiles = q.format === 'keepalived' && typeof req.body === 'object' && req.body !== null ? parseBody(keepalivedFilesBody, req.body) : null;
      if (typeof req.body !== 'string' && !withFiles) {
        throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', q.format === 'keepalived' ? 'send the file as text/plain, or as JSON {file, text, files} with its included files' : 'send the file as text/plain');
      }
      let imported: { objects: Record<string, unknown>[]; warnings: { line?: number; message: string }[] };
      try {
        if (q.format === 'keepalived') {
          // Each director's file adds its view (its priority, its peers) to what the others' files stored.
          const file = withFiles
            ? importKeepalived(withFiles.text, { host: q.host, file: withFiles.file, files: withFiles.files })
            : importKeepalived(req.body as string, { host: q.host });
          const merged = mergeDirectorView(file.objects, (key) => desired.find(key)?.value, q.host);
          imported = { objects: merged.objects, warnings: [...file.warnings, ...merged.warnings] };
        } else imported = importIpvsadmSave(req.body as string);
      } catch (err) {
        if (err instanceof IpvsadmRestoreError) {
          throw new ValidationError(err.issues.map((i) => ({ path: `line ${i.line}:${i.column}`, message: i.message })));
        }
        throw err;
      }
      const result = await desired.write(upserts(desired, imported.objects, 'objects'), { author: author(req), dryRun: q.dryRun === 'true' });
      const s = summary(result);
      return { ...s, warnings: [...imported.warnings, ...s.warnings] };
    },
  );

  app.get(
    '/v1/export',
    { config: { role: 'reader' }, schema: { tags: ['transfer'], summary: 'the desired state as JSON, YAML, keepalived.conf (for one director) or ipvsadm-save', querystring: exportQuery } },
    async (req, reply) => {
      const q = req.query as z.infer<typeof exportQuery>;
      const objects = desired.list().map((o) => o.value);
      switch (q.format) {
        case 'json':
          return { generation: desired.generation, objects: redactSecrets(objects) };
        case 'yaml':
          return reply.type('application/yaml').send(stringify({ generation: desired.generation, objects: redactSecrets(objects) }));
        case 'ipvsadm':
          return reply.type('text/plain').send(exportIpvsadmSave(objects));
        default: {
          if (q.host === undefined) throw badField('query.host', 'is required for keepalived.conf: the file is for one director');
          // Secrets stay out of exports too: auth_pass reads [redacted], which an import over the same
          // object keeps as the stored password.
          return reply.type('text/plain').send(exportKeepalived(redactSecrets(objects), { host: q.host }));
        }
      }
    },
  );
}
