import { randomBytes, scryptSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Bus, connectBus } from '@fulcrum/bus';
import { appBin, repoRoot, runBin } from '@fulcrum/runtime/testing';
import { EVENT_SUBJECTS, makeEvent } from '@fulcrum/schemas';
import { type ManagedServer, type NatsServer, eventually, freePort, makeTempDir, startNats, startProcess } from '@fulcrum/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from './exit-codes.js';

// fulcrumctl against a real config-api process on a real nats-server: the commands, their output when piped and
// the exit codes scripts use.

const user = { user: 'fulcrum', password: 'spec-nats-password' };
const TOKEN = 'cli-spec-admin-token-0123456789';
const SEED = join(repoRoot, 'libs/formats/src/keepalived/fixtures/seed-000.conf');
/** The tokens-file hash format of config-api (scrypt$N$r$p$salt$hash), with cheap parameters for the spec. */
const hash = (token: string) => {
  const salt = randomBytes(16);
  return `scrypt$1024$8$1$${salt.toString('base64url')}$${scryptSync(token, salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64url')}`;
};

let nats: NatsServer;
let api: ManagedServer;
let url: string;
let dir: string;
let bus: Bus;

const ctl = (args: string[], env: Record<string, string> = {}) =>
  runBin(appBin('cli', 'fulcrumctl'), args, { env: { FULCRUMCTL_API__URL: url, FULCRUMCTL_API__TOKEN: TOKEN, ...env }, timeoutMs: 30_000 });

beforeAll(async () => {
  nats = await startNats({ auth: { users: [user] } });
  dir = makeTempDir('fulcrumctl');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const config = join(dir, 'config-api.yaml');
  writeFileSync(
    config,
    `host: spec-api\nstatus:\n  port: 0\napi:\n  port: ${port}\n  commandTimeoutMs: 500\n  tokens:\n    - name: spec-admin\n      role: admin\n      hash: ${hash(TOKEN)}\n`,
  );
  api = await startProcess({
    name: 'config-api',
    command: process.execPath,
    args: [appBin('config-api'), '--config', config],
    dir,
    host: '127.0.0.1',
    port,
    env: { FULCRUM_NATS__SERVERS: nats.url, FULCRUM_NATS__USER: user.user, FULCRUM_NATS__PASSWORD: user.password, FULCRUM_LOG__LEVEL: 'warn' },
    readyTimeoutMs: 60_000,
  });
  bus = await connectBus({ servers: nats.url, name: 'spec', auth: { user: user.user, pass: user.password }, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await bus?.close();
  await api?.dispose();
  await nats?.dispose();
});

// Each command is a fresh node + tsx process: seconds each on a loaded 2-core machine.
describe('fulcrumctl', { timeout: 180_000 }, () => {
  it('imports the seed keepalived.conf, with its warnings by line on stderr', async () => {
    const r = await ctl(['import', 'keepalived', SEED, '--host', 'lvs1']);
    expect(r.stderr).toMatch(new RegExp(`${SEED}:30:\\d+: warning: nat_mask is obsolete`));
    expect(r.stdout).toContain('+ vs.tcp-192-168-80-150-80');
    expect(r.stdout).toMatch(/imported: generation \d+/);
    expect(r.code).toBe(EXIT.OK);
  });

  it('imports a keepalived.conf whose include names files on this machine, with warnings naming the included file', async () => {
    const dir = makeTempDir('fulcrumctl-include');
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'keepalived.conf'), '! the main file\ninclude conf.d/*.conf\n');
    writeFileSync(join(dir, 'conf.d', 'web.conf'), 'virtual_server 10.99.7.1 8080 {\n  lb_kind DR\n  bogus_keyword 1\n  real_server 10.99.7.21 8080 {\n  }\n}\n');
    writeFileSync(join(dir, 'conf.d', 'web.conf.orig'), 'this is not matched by *.conf');
    const r = await ctl(['import', 'keepalived', join(dir, 'keepalived.conf'), '--host', 'lvs1', '--dry-run']);
    expect(r.stderr).toContain(`${join(dir, 'conf.d', 'web.conf')}:3:3: warning: unknown keyword "bogus_keyword"`);
    expect(r.stdout).toContain('+ vs.tcp-10-99-7-1-8080');
    expect(r.code).toBe(EXIT.OK);
  });

  it('lists the services like ipvsadm -Ln, plain when piped, and as JSON', async () => {
    const r = await ctl(['ls']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.stdout).toMatch(/^TCP  192\.168\.80\.150:80 +wrr persistent 50/m);
    expect(r.stdout).toMatch(/^ {2}-> 192\.168\.80\.139:80 +Route +3 +unknown$/m);
    expect(r.stdout).toMatch(/^vi-1 eth0 vrid 51 192\.168\.80\.150: lvs1 unknown \(100\)$/m);
    expect(r.stdout).not.toContain('\u001b[');
    const coloured = await ctl(['ls'], { FULCRUMCTL_COLOR: 'always' });
    expect(coloured.stdout).toContain('\u001b[');
    const json = JSON.parse((await ctl(['ls', '--json'])).stdout);
    expect(json.virtualServices[0].object.scheduler).toBe('wrr');
  });

  it('gets objects with secrets hidden, and says 4 for one that does not exist', async () => {
    const vrrp = await ctl(['get', 'vrrp', 'vi-1']);
    expect(vrrp.stdout).toContain('password: "[redacted]"');
    expect(vrrp.stdout).not.toContain('1111');
    const missing = await ctl(['get', 'vs', 'nope']);
    expect(missing.code).toBe(EXIT.NOT_FOUND);
    expect(missing.stderr).toBe('fulcrumctl: no virtual-service "nope"\n');
  });

  it('diffs a file (7 when it differs), applies it, then diffs clean (0); a refused file is 3 with the field', async () => {
    const exported = (await ctl(['export', '--format', 'yaml'])).stdout;
    const file = join(dir, 'desired.yaml');
    writeFileSync(file, exported.replace('weight: 3', 'weight: 4'));
    const diff = await ctl(['diff', '-f', file]);
    expect(diff.code).toBe(EXIT.DIFFERENT);
    expect(diff.stdout).toContain('~ vs.tcp-192-168-80-150-80\n    realServers[0].weight: 3 -> 4');
    const apply = await ctl(['apply', '-f', file]);
    expect(apply.code).toBe(EXIT.OK);
    expect(apply.stdout).toMatch(/applied: generation \d+/);
    expect((await ctl(['diff', '-f', file])).code).toBe(EXIT.OK);
    writeFileSync(file, exported.replace('weight: 3', 'weight: -3'));
    const bad = await ctl(['apply', '-f', file]);
    expect(bad.code).toBe(EXIT.REFUSED);
    expect(bad.stderr).toMatch(/objects\[\d+\]\.realServers\[0\]\.weight: must be at least 0/);
  });

  it('exports ipvsadm-save text and keepalived.conf', async () => {
    const save = await ctl(['export', '--format', 'ipvsadm']);
    expect(save.stdout).toContain('-A -t 192.168.80.150:80 -s wrr -p 50\n');
    const conf = await ctl(['export', '--format', 'keepalived', '--host', 'lvs1']);
    expect(conf.stdout).toContain('vrrp_instance vi-1 {');
  });

  it('says 6 when no agent answers a drain, with each director reply', async () => {
    const r = await ctl(['drain', 'tcp-192-168-80-150-80', '192.168.80.139:80', '--reason', 'spec']);
    expect(r.code).toBe(EXIT.OPERATION_FAILED);
    expect(r.stderr).toMatch(/lvs1: failed: /);
  });

  it('follows events of one type and stops after --count', async () => {
    const run = ctl(['events', '--type', 'health', '--count', '1']);
    const event = makeEvent('health', { service: 'health-checker', host: 'lvs1' }, {
      virtualService: 'tcp-192-168-80-150-80',
      realServer: { address: '192.168.80.139', port: 80 },
      state: 'down',
      previous: 'up',
      checks: [{ type: 'tcp', ok: false }],
      reason: 'connection refused',
    });
    let done = false;
    void run.finally(() => (done = true));
    // Published until the stream (which connects asynchronously) has taken one.
    for (let i = 0; i < 100 && !done; i++) {
      bus.publish(EVENT_SUBJECTS.health, { host: 'lvs1' }, event);
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await run;
    expect(r.code).toBe(EXIT.OK);
    expect(JSON.parse(r.stdout.split('\n')[0]!)).toMatchObject({ type: 'health', data: { state: 'down' } });
  });

  it('prints the observed state', async () => {
    const r = await ctl(['status']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.stdout).toMatch(/^desired generation \d+$/m);
    expect(r.stdout).toMatch(/^vrrp vi-1: no reports$/m);
  });

  it('lists the services that send heartbeats, config-api itself among them', async () => {
    await eventually('config-api ready in its heartbeat', async () => {
      const r = await ctl(['status']);
      return /^service config-api on spec-api: ready, version \S+ \d+s ago$/m.test(r.stdout) ? true : undefined;
    }, 60_000);
  });

  it('says 5 for an unknown token and 1 when the API is unreachable', async () => {
    expect((await ctl(['ls'], { FULCRUMCTL_API__TOKEN: 'wrong-token' })).code).toBe(EXIT.DENIED);
    const down = await ctl(['ls'], { FULCRUMCTL_API__URL: `http://127.0.0.1:${await freePort()}` });
    expect(down.code).toBe(EXIT.FAILURE);
    expect(down.stderr).toMatch(/^fulcrumctl: cannot reach config-api at http:\/\/127\.0\.0\.1:\d+: /);
  });
});
