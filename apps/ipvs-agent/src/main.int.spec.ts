import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appBin, describeAppBin, runBin, startBin } from '@fulcrum/runtime/testing';
import { type NatsServer, eventually, startNats } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_PORT } from './config.js';

const user = { user: 'ipvs-agent', password: 'spec-nats-password' };
let nats: NatsServer;
beforeAll(async () => {
  nats = await startNats({ jetstream: true, auth: { users: [user] } });
});
afterAll(() => nats?.dispose());

describeAppBin({
  app: 'ipvs-agent',
  bin: 'ipvs-agent',
  envPrefix: 'FULCRUM_',
  service: {
    statusPort: STATUS_PORT,
    // This host has no IPVS: the shared start/stop spec runs the real-server role, which works here.
    env: () => ({
      FULCRUM_NATS__SERVERS: nats.url,
      FULCRUM_NATS__USER: user.user,
      FULCRUM_NATS__PASSWORD: user.password,
      FULCRUM_ROLE: 'realserver',
      FULCRUM_REAL_SERVER__STATE_PATH: join(mkdtempSync(join(tmpdir(), 'ipvs-agent-rs-')), 'state.json'),
    }),
  },
  badInput: true,
});

describe('ipvs-agent and NATS', () => {
  const env = () => ({
    FULCRUM_NATS__SERVERS: nats.url,
    FULCRUM_NATS__USER: user.user,
    FULCRUM_NATS__PASSWORD: user.password,
    FULCRUM_STATUS__PORT: '0',
    FULCRUM_ROLE: 'realserver',
    FULCRUM_REAL_SERVER__STATE_PATH: join(mkdtempSync(join(tmpdir(), 'ipvs-agent-rs-')), 'state.json'),
  });
  const readyz = async (url: string) => (await fetch(`${url}/readyz`)).json() as Promise<{ ready: boolean; failing: string[] }>;

  it('is unready while NATS is away, at start and later, and ready again once it is back', async () => {
    await nats.stop();
    const run = startBin(appBin('ipvs-agent'), [], { env: env() });
    try {
      const url = (await run.waitForLine((l) => l.msg === 'status server listening')).status as string;
      await run.waitForLine((l) => l.msg === 'connecting to NATS');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(await readyz(url)).toEqual({ ready: false, failing: ['startup'] });

      await nats.start();
      await run.waitForLine((l) => l.msg === 'started');
      expect(await readyz(url)).toEqual({ ready: true, failing: [] });

      await nats.stop();
      expect(await eventually('/readyz names the bus', async () => (await readyz(url)).failing.includes('bus') || undefined, 10_000)).toBe(true);
      await nats.start();
      expect(await eventually('/readyz passes again', async () => (await readyz(url)).ready || undefined, 15_000)).toBe(true);
    } finally {
      if (!nats.isRunning()) await nats.start();
      expect(await run.stop()).toEqual({ code: 0, signal: null });
    }
  });

  it('exits 1 and says why when NATS refuses its password', async () => {
    const r = await runBin(appBin('ipvs-agent'), [], { env: { ...env(), FULCRUM_NATS__PASSWORD: 'wrong-password' } });
    expect(r.code).toBe(1);
    const fatal = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string } })
      .find((l) => l.level === 60);
    expect(fatal).toMatchObject({ msg: 'startup failed', err: { message: expect.stringMatching(/refused user ipvs-agent/) } });
    expect(r.stdout).not.toContain('wrong-password');
  });

  it('as a director on a kernel without IPVS: up, unready naming the kernel, retrying with a warning', async () => {
    const run = startBin(appBin('ipvs-agent'), ['--role', 'director'], { env: { ...env(), FULCRUM_DIRECTOR__RETRY_INTERVAL: '0.5' } });
    try {
      const started = await run.waitForLine((l) => l.msg === 'started');
      expect(await readyz(started.status as string)).toEqual({ ready: false, failing: ['kernel'] });
      const warning = await run.waitForLine((l) => /no IPVS/.test(String(l.msg)));
      expect(warning.level).toBe(40);
    } finally {
      expect(await run.stop()).toEqual({ code: 0, signal: null });
    }
  });

  it('dump on a kernel without IPVS: one plain line and exit 1', async () => {
    const r = await runBin(appBin('ipvs-agent'), ['dump']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ipvs-agent: IPVS is not available on kernel .*\n$/);
  });
});
