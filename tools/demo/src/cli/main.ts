import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inLab } from '@fulcrum/lab';
import { addresses, repoRoot, startCluster } from '../cluster.js';
import { importKeepalived, waitReady } from '../setup.js';
import { runScenario, summaryTable, type ScenarioOptions } from '../scenario.js';

// `npm run demo [-- --keep]`. On the host: bring the services' bundles up to date (what the units run;
// `npm run demo` has already done it through setup), then run this same command inside the lab VM. In the VM:
// build the seeds' cluster, import the seed's keepalived.conf through config-api, run the seed's tests.
export const API_HOST_PORT = 9780;
/** The apps the demo's cluster runs (their bundles). */
const DEMO_APPS = ['cli', 'config-api', 'ipvs-agent', 'vrrp-agent', 'health-checker'];

function run(argv: string[], opts: { quiet?: boolean } = {}): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: opts.quiet ? 'ignore' : 'inherit' });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
    child.on('error', () => resolve(1));
  });
}

async function host(args: string[]): Promise<number> {
  const keep = args.includes('--keep');
  if ((await run([process.execPath, `${repoRoot}tools/setup/build.mjs`, ...DEMO_APPS])) !== 0) return 1;
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
    // Eleven processes start at once: a second vCPU (a second host thread under TCG) halves that wait.
    '--cpus',
    '2',
    '--timeout',
    keep ? '0' : '3600',
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
    await importKeepalived(c, { director1: `${repoRoot}deploy/demo/keepalived-director1.conf`, director2: `${repoRoot}deploy/demo/keepalived-director2.conf` }, say);
    say('waiting for director1 to hold the VIP and both directors to hold the table');
    await waitReady(c, { rs1: 3, rs2: 3 });
    process.stdout.write(await c.fulcrumctl(['ls']));
    say(`cluster up in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const results = await runScenario(c, seedScenario(say));
    process.stdout.write(`\n${summaryTable(results)}\n\n`);
    const ok = results.every((r) => r.ok);
    say(ok ? 'every step met its expectation' : `${results.filter((r) => !r.ok).length} step(s) failed`);
    if (keep) {
      await c.exposeApi();
      say(`the lab stays up: on the host, FULCRUMCTL_API__URL=http://127.0.0.1:${API_HOST_PORT} FULCRUMCTL_API__TOKEN=<token in deploy/demo/fulcrumctl.yaml> npx fulcrumctl ls; Ctrl-C stops it`);
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
