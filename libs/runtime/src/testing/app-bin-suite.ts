import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runBin, startBin, unitForCheckout } from './index.js';

export interface AppBinSuite {
  /** Directory under apps/. */
  app: string;
  /** The bin name (= app, except fulcrumctl). */
  bin: string;
  /** Environment prefix of its config. */
  envPrefix: string;
  /** A long-running service (status server, systemd unit) rather than a command-line tool. */
  service?: {
    statusPort: number;
    /** Variables for a real start, read when the test runs (e.g. the spec's own NATS server). */
    env?: () => Record<string, string>;
  };
  /**
   * Also check the answers to bad input (the same runtime code in every app, so one service and
   * the CLI are enough; each spawn costs a second or more on a busy machine).
   */
  badInput?: boolean;
}

/**
 * What every Fulcrum program must do, checked on the real bin in a child process: --help and
 * --version, the example config passes --check-config with its secret hidden, bad input exits 2
 * naming the problem, and a service starts, answers on its status port and stops cleanly on SIGTERM.
 */
export function describeAppBin(suite: AppBinSuite): void {
  const bin = join(repoRoot, 'apps', suite.app, 'bin', `${suite.bin}.mjs`);
  const example = join(repoRoot, 'deploy', 'config', `${suite.bin}.example.yaml`);
  const dir = mkdtempSync(join(tmpdir(), `fulcrum-${suite.bin}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe(`${suite.bin} bin`, () => {
    it('prints usage with its options, config keys and variables, and exits 0', async () => {
      const r = await runBin(bin, ['--help']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${suite.bin} \\d+\\.\\d+\\.\\d+: \\w`));
      expect(r.stdout).toMatch(/-c, --config FILE/);
      expect(r.stdout).toMatch(new RegExp(`log\\.level +${suite.envPrefix}LOG__LEVEL`));
      if (suite.service) expect(r.stdout).toMatch(new RegExp(`${suite.envPrefix}STATUS__PORT\\n.*default ${suite.service.statusPort}`));
    });

    it('prints its version and exits 0', async () => {
      const v = await runBin(bin, ['--version']);
      expect(v).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^${suite.bin} \\d+\\.\\d+\\.\\d+\\n$`)) });
    });

    it('accepts its example config and prints it with the secrets hidden', async () => {
      const r = await runBin(bin, ['--config', example, '--check-config']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/configuration OK/);
      if (suite.service) {
        expect(r.stdout).toMatch(/password: "?\[redacted\]"?/);
        expect(r.stdout).not.toContain('change-me');
      }
    });

    it('has a bundle (what deploy/systemd runs) that accepts the example config', async () => {
      // Made by `npm run build` (setup runs it); a bundling mistake such as a module esbuild cannot inline shows here.
      const bundle = join(repoRoot, 'apps', suite.app, 'dist', 'main.mjs');
      const r = await runBin(bundle, ['--config', example, '--check-config']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/configuration OK/);
    });

    if (suite.badInput) {
      it('refuses an unknown option with exit code 2', async () => {
        const opt = await runBin(bin, ['--bogus']);
        expect(opt.code).toBe(2);
        expect(opt.stderr).toBe(`${suite.bin}: unknown option --bogus\nTry '${suite.bin} --help' for more information.\n`);
      });

      it('refuses a bad config file with exit code 2, naming each key and its line', async () => {
        const bad = join(dir, 'bad.yaml');
        writeFileSync(bad, 'log:\n  level: loud\n  colour: true\n');
        const cfg = await runBin(bin, ['--config', bad]);
        expect(cfg.code).toBe(2);
        expect(cfg.stderr).toContain(`invalid configuration in ${bad}:`);
        expect(cfg.stderr).toMatch(/log\.level \(line 2\): must be one of/);
        expect(cfg.stderr).toMatch(/log\.colour \(line 3\): unknown key/);
        expect(cfg.stderr).not.toMatch(/\n\s+at /); // no stack trace
      });

      it('refuses a bad environment variable with exit code 2, naming it', async () => {
        const env = await runBin(bin, ['--check-config'], { env: { [`${suite.envPrefix}LOG__PRETTY`]: 'maybe' } });
        expect(env.code).toBe(2);
        expect(env.stderr).toContain(`log.pretty (from ${suite.envPrefix}LOG__PRETTY): "maybe" is not a boolean`);
      });
    }

    const service = suite.service;
    if (service) {
      it('starts, serves /healthz, /readyz and /metrics on loopback, and exits 0 on SIGTERM', async () => {
        const env = { ...service.env?.(), [`${suite.envPrefix}STATUS__PORT`]: '0', [`${suite.envPrefix}HOST`]: 'spec-host' };
        const run = startBin(bin, [], { env });
        try {
          const started = await run.waitForLine((l) => l.msg === 'started');
          expect(started).toMatchObject({ service: suite.bin, host: 'spec-host', status: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
          const url = started.status as string;
          expect((await fetch(`${url}/healthz`)).status).toBe(200);
          expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ ready: true, failing: [] });
          const metrics = await (await fetch(`${url}/metrics`)).text();
          expect(metrics).toContain(`fulcrum_service_info{service="${suite.bin}"`);
        } finally {
          const exit = await run.stop('SIGTERM');
          expect(exit).toEqual({ code: 0, signal: null });
        }
        const messages = run.lines.map((l) => l.msg);
        expect(messages.indexOf('stopping')).toBeGreaterThan(messages.indexOf('started'));
        expect(messages.at(-1)).toBe('stopped');
        expect(run.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
        // Passwords and tokens handed in through the environment never reach the log.
        const secrets = Object.entries(env).filter(([k]) => /PASSWORD|TOKEN/.test(k)).map(([, v]) => v);
        for (const secret of secrets) expect(JSON.stringify(run.lines)).not.toContain(secret);
        expect(run.stderr()).toBe('');
      });

      it('has a systemd unit that systemd accepts', () => {
        const unit = unitForCheckout(suite.bin, dir);
        // Throws (with systemd's complaint) on any problem in the unit.
        execFileSync('systemd-analyze', ['verify', '--man=no', unit], { stdio: 'pipe' });
      });
    }
  });
}
