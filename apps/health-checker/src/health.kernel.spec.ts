import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTopology, httpGetMany, modprobe, natAddresses as a, natTopology, requireLab, startNginx, tally, type LabProcess, type Topology } from '@fulcrum/lab';
import { appBin } from '@fulcrum/runtime/testing';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { stringify } from 'yaml';

// The whole path in the lab's kernel: health-checker and ipvs-agent (director role) on director1 of
// the NAT topology, with a NATS server there, desired state written as config-api would. nginx on
// rs1 stops and starts; the kernel's IPVS table (read with Debian's ipvsadm) and a client's
// requests through the VIP must follow within keepalived's timing.

const INTERVAL_S = 1;
const TIMEOUT_S = 1;
const RISE = 2;
/** What a loaded lab guest adds on top: event delivery, a reconcile pass, and an ipvsadm exec per poll. */
const SLACK_MS = 3000;

const service = {
  kind: 'virtual-service',
  id: 'web',
  match: { kind: 'address', protocol: 'tcp', address: a.vip, port: 80 },
  scheduler: 'wrr',
  forwarding: 'nat',
  inhibitOnFailure: true,
  healthChecks: [{ type: 'tcp', interval: INTERVAL_S, connectTimeout: TIMEOUT_S, retries: 0, rise: RISE, warmup: 0 }],
  realServers: [
    { address: a.rs1, port: 80, weight: 1 },
    { address: a.rs2, port: 80, weight: 1 },
  ],
};

describe('health-checker driving the kernel through ipvs-agent', () => {
  let t: Topology;
  let rs1: LabProcess;
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-hc-kernel-'));
  const nats = 'nats://127.0.0.1:4222';

  /** rs1's weight in director1's kernel table, or null when it has no entry. */
  const rs1Weight = async (): Promise<number | null> => {
    const { stdout } = await t.exec('director1', ['ipvsadm', '-Ln']);
    const line = stdout.split('\n').find((l) => l.includes(`-> ${a.rs1}:80`));
    return line === undefined ? null : Number(line.trim().split(/\s+/)[3]);
  };
  /** Polls until rs1's weight is `want`; returns how long it took. */
  const waitWeight = async (want: number, limitMs: number): Promise<number> => {
    const start = performance.now();
    for (;;) {
      const w = await rs1Weight();
      const took = performance.now() - start;
      if (w === want) return took;
      if (took > limitMs) throw new Error(`rs1 weight is ${w}, not ${want}, after ${Math.round(took)} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    requireLab();
    await modprobe('ip_vs', 'ip_vs_wrr');
    t = await buildTopology(natTopology({ prefix: 'hc-' }));
    [rs1] = await Promise.all([startNginx(t, 'rs1', { body: 'rs1' }), startNginx(t, 'rs2', { body: 'rs2' })]);
    const n = t.spawn('director1', ['nats-server', '-a', '127.0.0.1', '-p', '4222', '-js', '-sd', join(dir, 'js')], { name: 'nats' });
    await n.waitForListen(4222);
    const put = fileURLToPath(new URL('./testing/put-desired.ts', import.meta.url));
    await t.exec('director1', [process.execPath, '--import', 'tsx', put, nats, JSON.stringify([service])], { timeoutMs: 120_000 });
    const common = { host: 'director1', nats: { servers: [nats] }, status: { address: '127.0.0.1', port: 0 }, log: { level: 'info' } };
    writeFileSync(join(dir, 'ipvs-agent.yaml'), stringify({ ...common, role: 'director' }));
    writeFileSync(join(dir, 'health-checker.yaml'), stringify(common));
    const agent = t.spawn('director1', [process.execPath, appBin('ipvs-agent'), '--config', join(dir, 'ipvs-agent.yaml')], { name: 'ipvs-agent' });
    const checker = t.spawn('director1', [process.execPath, appBin('health-checker'), '--config', join(dir, 'health-checker.yaml')], { name: 'health-checker' });
    try {
      // Two node services starting in the guest (tsx compiles them first) take a while.
      await waitWeight(1, 420_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${t.logs().slice(-8000)}`, { cause: err });
    }
    expect(agent.running && checker.running).toBe(true);
  }, 600_000);
  afterAll(() => t?.teardown());

  it('nginx stopped on rs1: weight 0 within fall x interval + timeout, no client errors; started: weight back after rise x interval', async () => {
    onTestFailed(() => {
      process.stderr.write(t.logs());
    });
    expect(tally(await httpGetMany(t, 'client', `http://${a.vip}/`, 10))).toEqual({ rs1: 5, rs2: 5 });

    await rs1.stop();
    const down = await waitWeight(0, 60_000);
    expect(down, `rs1 went to weight 0 after ${Math.round(down)} ms`).toBeLessThan((INTERVAL_S + TIMEOUT_S) * 1000 + SLACK_MS);
    // Inhibited, not removed: the entry stays with weight 0, and every new connection goes to rs2 without an error.
    expect(tally(await httpGetMany(t, 'client', `http://${a.vip}/`, 20))).toEqual({ rs2: 20 });

    rs1 = await startNginx(t, 'rs1', { body: 'rs1' });
    const up = await waitWeight(1, 60_000);
    // rise successes need (rise - 1) intervals at least, after the first success.
    expect(up, `rs1 came back after ${Math.round(up)} ms`).toBeGreaterThanOrEqual((RISE - 1) * INTERVAL_S * 1000);
    expect(up, `rs1 came back after ${Math.round(up)} ms`).toBeLessThan(RISE * INTERVAL_S * 1000 + SLACK_MS);
    expect(tally(await httpGetMany(t, 'client', `http://${a.vip}/`, 10))).toEqual({ rs1: 5, rs2: 5 });
  }, 300_000);
});
