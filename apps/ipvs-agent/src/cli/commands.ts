import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { IpvsadmRestoreError, formatIpvsadmCommand, formatIpvsadmSave, parseIpvsadmRestore } from '@fulcrum/formats';
import type { IpvsControl, IpvsDump } from '@fulcrum/netlink';
import { IpvsUnavailableError, NetlinkIpvs, describeOp, dumpToTable } from '@fulcrum/netlink';
import type { AppCommand } from '@fulcrum/runtime';
import { UsageError } from '@fulcrum/runtime';
import type { IpvsTable } from '@fulcrum/schemas';
import type { IpvsAgentConfig } from '../config.js';
import { diffTables } from '../director/diff.js';
import { toModel } from '../director/table-model.js';

// One-off use on a director, without NATS: print the kernel table, or make it equal to an
// ipvsadm-save file through the same minimal diff the agent uses (a dry run prints the diff).

type Open = (config: IpvsAgentConfig) => Promise<IpvsControl>;
const openKernel: Open = (config) => NetlinkIpvs.open(config.director.netns ? { netns: config.director.netns } : {});

const json = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2);

/** The dump with counters, as JSON people and scripts can read (64-bit counters as numbers). */
export function dumpAsJson(dump: IpvsDump): string {
  return json({
    services: dump.services.map((s) => ({
      ...s.service,
      stats: s.stats,
      destinations: s.destinations.map((d) => ({ ...d.destination, activeConns: d.activeConns, inactiveConns: d.inactiveConns, persistentConns: d.persistentConns, stats: d.stats })),
    })),
  });
}

export interface ApplyFileResult {
  lines: string[];
  failed: number;
}

/** Diffs the kernel against `table` and applies it (or only lists the commands with dryRun). */
export async function applyTable(ipvs: IpvsControl, table: IpvsTable, dryRun: boolean): Promise<ApplyFileResult> {
  const current = toModel(dumpToTable(await ipvs.dump()));
  const diff = diffTables(current, toModel(table), { drainBeforeRemove: false });
  const lines = diff.ops.map((op) => formatIpvsadmCommand(op));
  const summary = `# ${diff.changes.added} added, ${diff.changes.updated} updated, ${diff.changes.removed} removed (${diff.ops.length} operations)`;
  if (dryRun) return { lines: [...lines, `${summary}; dry run, nothing applied`], failed: 0 };
  const results = await ipvs.apply(diff.ops);
  const failures = results.filter((r) => !r.ok);
  const out = [...lines, summary];
  for (const f of failures) if (!f.ok) out.push(`# failed: ${f.op.op} ${describeOp(f.op)}: ${f.error.message}`);
  return { lines: out, failed: failures.length };
}

async function withKernel<T>(config: IpvsAgentConfig, open: Open, work: (ipvs: IpvsControl) => Promise<T>): Promise<T> {
  const ipvs = await open(config);
  try {
    return await work(ipvs);
  } finally {
    await ipvs.close();
  }
}

const write = (out: Writable, text: string) => new Promise<void>((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));

/** No IPVS here is a plain one-line message and exit 1, not a stack trace. */
const plainKernelErrors =
  (run: AppCommand<IpvsAgentConfig>['run']): AppCommand<IpvsAgentConfig>['run'] =>
  async (ctx) => {
    try {
      return await run(ctx);
    } catch (err) {
      if (!(err instanceof IpvsUnavailableError)) throw err;
      process.stderr.write(`ipvs-agent: ${err.message}\n`);
      return 1;
    }
  };

export function commands(open: Open = openKernel): Record<string, AppCommand<IpvsAgentConfig>> {
  return {
    dump: {
      summary: 'print the kernel IPVS table as ipvsadm-save -n does (or as JSON with counters)',
      options: { json: { type: 'boolean', description: 'JSON with counters instead of ipvsadm-save text' } },
      run: plainKernelErrors(async ({ config, args, stdout }) => {
        const dump = await withKernel(config, open, (ipvs) => ipvs.dump());
        await write(stdout, args.values.json === true ? `${dumpAsJson(dump)}\n` : formatIpvsadmSave(dumpToTable(dump)));
        return 0;
      }),
    },
    apply: {
      summary: 'make the kernel table equal to an ipvsadm-save file, changing only what differs (services not in the file are removed)',
      args: 'FILE',
      options: { 'dry-run': { type: 'boolean', description: 'print the ipvsadm commands the change takes, apply nothing' } },
      run: plainKernelErrors(async ({ config, args, stdout }) => {
        const [file, ...extra] = args.positionals;
        if (!file || extra.length > 0) throw new UsageError('apply takes one FILE (an ipvsadm-save -n file)');
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (err) {
          throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
        let table: IpvsTable;
        try {
          table = parseIpvsadmRestore(text).table;
        } catch (err) {
          if (err instanceof IpvsadmRestoreError) throw new UsageError(`${file}: ${err.message}`);
          throw err;
        }
        const r = await withKernel(config, open, (ipvs) => applyTable(ipvs, table, args.values['dry-run'] === true));
        await write(stdout, r.lines.map((l) => `${l}\n`).join(''));
        return r.failed > 0 ? 1 : 0;
      }),
    },
  };
}
