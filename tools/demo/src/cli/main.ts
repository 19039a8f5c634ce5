import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inLab } from '@fulcrum/lab';
import { addresses, type Cluster, directors, repoRoot, startCluster, until } from '../cluster.js';
import { runScenario, summaryTable, type ScenarioOptions } from '../scenario.js';

// `npm run demo [-- --keep]`. On the host: warm tsx's compile cache (the guest sees the host's /tmp, and
// compiling in the slow guest costs minutes), then run this same command inside the lab VM. In the VM:
// build the seeds' cluster, import the seed's keepalived.conf through config-api, run the seed's tests.

const APPS = ['config-api', 'ipvs-agent', 'vrrp-agent', 'health-checker', 'cli'];
const binOf = (app: string) => `${repoRoot}apps/${app}/bin/${app === 'cli' ? 'fulcrumctl' : app}.mjs`;
export const API_HOST_PORT = 9780;

function run(argv: string[], opts: { quiet?: boolean } = {}): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: opts.quiet ? 'ignore' : 'inherit' });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
    child.on('error', () => resolve(1));
  });
}

async function host(args: string[]): Promise<number> {
  const keep = args.includes('--keep');
  process.stderr.write('demo: compiling the services once on the host (the lab guest reuses the cache)\n');
  await Promise.all(APPS.map((a) => run([process.execPath, binOf(a), '--version'], { quiet: true })));
  // Every process's output, kept after the VM is gone.
  const logDir = mkdtempSync(join(tmpdir(), 'fulcrum-demo-logs-'));
  const lab = [
    process.execPath,
    `${repoRoot}tools/lab/bin/lab.mjs`,
    '--results',
    logDir,
    '--env',
    `FULCRUM_DEMO_LOG_DIR=${logDir}`,
    '--mem',
    '3072',
    '--timeout',
    keep ? '0' : '1800',
    ...(keep ? ['--forward', `${API_HOST_PORT}:${addresses.control}:9780`] : []),
    '--',
    process.execPath,
    `${repoRoot}tools/demo/bin/demo.mjs`,
    ...args,
  ];
  const code = await run(lab);
  process.stderr.write(`demo: the services' logs are in ${logDir}\n`);
  return code;
}

const say = (line: string) => process.stdout.write(`demo: ${line}\n`);

async function importConfig(c: Cluster): Promise<void> {
  for (const d of directors) {
    say(`fulcrumctl import keepalived deploy/demo/keepalived-${d}.conf --host ${d}`);
    process.stdout.write(await c.fulcrumctl(['import', 'keepalived', `${repoRoot}deploy/demo/keepalived-${d}.conf`, '--host', d]));
  }
  const vi = JSON.parse(await c.fulcrumctl(['get', 'vrrp-instance', 'vi-1', '--json'])) as { priorities?: Record<string, number> };
  const want = { director1: 100, director2: 99 };
  if (vi.priorities?.director1 !== 100 || vi.priorities?.director2 !== 99) {
    // config-api replaces an imported VRRP instance instead of adding this director's priority to it.
    say(`the second import left priorities ${JSON.stringify(vi.priorities)}: setting ${JSON.stringify(want)} with a merge patch`);
    const yaml = readFileSync(`${repoRoot}deploy/demo/fulcrumctl.yaml`, 'utf8');
    const token = /token:\s*(\S+)/.exec(yaml)?.[1] ?? '';
    const script = `const r = await fetch('http://${addresses.control}:9780/v1/vrrp-instances/vi-1', { method: 'PATCH', headers: { authorization: 'Bearer ${token}', 'content-type': 'application/json' }, body: JSON.stringify({ priorities: ${JSON.stringify(want)} }) }); if (!r.ok) { console.error(r.status, await r.text()); process.exit(1); }`;
    await c.t.exec('control', [process.execPath, '--input-type=module', '-e', script]);
  }
}

async function waitReady(c: Cluster): Promise<void> {
  await until('director1 holds the VIP', async () => ((await c.vipHolder()) === 'director1' ? true : undefined), 180_000, 250);
  for (const d of directors) {
    for (const rs of ['rs1', 'rs2']) await until(`${rs} in ${d}'s table with weight 3`, async () => ((await c.weightOf(d, rs)) === 3 ? true : undefined), 180_000, 250);
  }
  for (const rs of ['rs1', 'rs2']) {
    await until(`the VIP on ${rs}'s lo`, async () => ((await c.t.exec(rs, ['ip', '-br', 'addr', 'show', 'dev', 'lo'])).stdout.includes(addresses.vip) ? true : undefined), 180_000, 250);
  }
}

export const seedScenario = (s: (l: string) => void): ScenarioOptions => ({
  // delay_loop 6 + nb_get_retry 3 x delay_before_retry 3, plus the guest's slowness.
  detectMs: 20_000,
  // advert_int 1 (VRRPv2): master down after 3 x 1 s + skew (0.6 s), plus the ARP update.
  failoverGapMs: 4_500,
  failbackGapMs: 2_000,
  weights: { rs1: 3, rs2: 3 },
  splitRequests: 60,
  wrkSeconds: 5,
  probeIntervalMs: 20,
  say: s,
});

async function guest(args: string[]): Promise<number> {
  const keep = args.includes('--keep');
  const started = Date.now();
  say('building the seeds cluster: control, client, director1, director2, rs1, rs2 (network namespaces on one segment)');
  const logDir = process.env.FULCRUM_DEMO_LOG_DIR;
  const c = await startCluster({ say, ...(logDir ? { logDir } : {}) }).catch((err: unknown) => {
    say(`the cluster did not come up: ${(err as Error).message}`);
    return null;
  });
  if (!c) return 1;
  try {
    await importConfig(c);
    say('waiting for director1 to hold the VIP and both directors to hold the table');
    await waitReady(c);
    process.stdout.write(await c.fulcrumctl(['ls']));
    say(`cluster up in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const results = await runScenario(c, seedScenario(say));
    process.stdout.write(`\n${summaryTable(results)}\n\n`);
    const ok = results.every((r) => r.ok);
    say(ok ? 'every step met its expectation' : `${results.filter((r) => !r.ok).length} step(s) failed`);
    if (keep) {
      await c.exposeApi();
      say(`the lab stays up: on the host, FULCRUMCTL_API__URL=http://127.0.0.1:${API_HOST_PORT} FULCRUMCTL_API__TOKEN=<token in deploy/demo/fulcrumctl.yaml> node apps/cli/bin/fulcrumctl.mjs ls; Ctrl-C stops it`);
      await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
    }
    return ok ? 0 : 1;
  } catch (err) {
    say(`failed: ${(err as Error).message}`);
    process.stdout.write(`--- process output ---\n${c.logs().split('\n').slice(-120).join('\n')}\n`);
    return 1;
  } finally {
    await c.teardown();
  }
}

export async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== '--keep');
  if (unknown.length) {
    process.stderr.write(`demo: unknown argument ${unknown[0]}; usage: npm run demo [-- --keep]\n`);
    return 2;
  }
  return inLab() ? guest(args) : host(args);
}
