#!/usr/bin/env node
// The whole test run: lint, type-check, host suites (unit + integration), then the kernel
// suite and the appliance's acceptance spec inside lab VMs. Ends with one line `tests: N passed, M failed` summed from the real
// vitest reports, and exits non-zero if anything failed (a failed lint or type-check counts as
// one failure each; a suite that produced no report counts as one failure).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const results = join(root, '.vitest-results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: process.env.FORCE_COLOR ?? '0' };
const only = process.env.FULCRUM_TEST_ONLY?.split(',') ?? null; // e.g. FULCRUM_TEST_ONLY=unit,int
const wanted = (step) => !only || only.includes(step);

let passed = 0;
let failed = 0;
const summary = [];

function run(step, cmd, args) {
  const started = Date.now();
  process.stderr.write(`\n=== ${step}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  return { ok: r.status === 0, secs, status: r.status ?? r.signal };
}

function check(step, cmd, args) {
  if (!wanted(step)) return;
  const r = run(step, cmd, args);
  if (!r.ok) failed += 1;
  summary.push(`${step}: ${r.ok ? 'ok' : `FAILED (${r.status})`} in ${r.secs}s`);
}

function suite(step, cmd, args, report) {
  if (!wanted(step)) return;
  const r = run(step, cmd, args);
  if (!existsSync(report)) {
    failed += 1;
    summary.push(`${step}: FAILED, no report (exit ${r.status}) in ${r.secs}s`);
    return;
  }
  const json = JSON.parse(readFileSync(report, 'utf8'));
  const p = json.numPassedTests ?? 0;
  // Files that failed to load count as failures even though no test in them ran.
  const fileErrors = (json.testResults ?? []).filter((t) => t.status === 'failed' && (t.assertionResults ?? []).length === 0).length;
  const f = (json.numFailedTests ?? 0) + fileErrors;
  passed += p;
  failed += f;
  if (!r.ok && f === 0) failed += 1; // vitest failed for a reason the report does not show
  summary.push(`${step}: ${p} passed, ${f} failed in ${r.secs}s`);
}

const vitest = join(root, 'node_modules', '.bin', 'vitest');
check('lint', 'sh', ['-c', 'npx nx show projects > /dev/null && npx eslint .']);
check('typecheck', join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--noEmit']);
suite('unit', vitest, ['run', '--passWithNoTests', '--project', 'unit', '--reporter=default', '--reporter=json', `--outputFile.json=${join(results, 'unit.json')}`], join(results, 'unit.json'));
suite('int', vitest, ['run', '--passWithNoTests', '--project', 'int', '--reporter=default', '--reporter=json', `--outputFile.json=${join(results, 'int.json')}`], join(results, 'int.json'));
if (existsSync(join(root, 'tools', 'lab', 'bin', 'lab.mjs'))) {
  // The lab shares the host's root read-only and mounts `results` read-write at the same path.
  suite(
    'kernel',
    'node',
    [join(root, 'tools', 'lab', 'bin', 'lab.mjs'), '--results', results, '--', vitest, 'run', '--passWithNoTests', '--project', 'kernel', '--reporter=default', '--reporter=json', `--outputFile.json=${join(results, 'kernel.json')}`],
    join(results, 'kernel.json'),
  );
  // The appliance end to end (tools/demo): eleven processes in six namespaces need 3 GB and a second vCPU.
  suite(
    'acceptance',
    'node',
    [join(root, 'tools', 'lab', 'bin', 'lab.mjs'), '--mem', '3072', '--cpus', '2', '--results', results, '--', vitest, 'run', '--passWithNoTests', '--project', 'acceptance', '--reporter=default', '--reporter=json', `--outputFile.json=${join(results, 'acceptance.json')}`],
    join(results, 'acceptance.json'),
  );
}

process.stdout.write(`\n${summary.join('\n')}\n`);
process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
