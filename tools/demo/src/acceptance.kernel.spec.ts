import { mkdirSync, writeFileSync } from 'node:fs';
import { requireLab } from '@fulcrum/lab';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { addresses, bigFile, type Cluster, startCluster } from './cluster.js';
import { crashMasterStep, loadStep, restoreMasterStep, type ScenarioOptions, startRealServerStep, stopRealServerStep } from './scenario.js';
import { importKeepalived, waitReady } from './setup.js';

// Acceptance: the seeds' cluster on Fulcrum (every service its own process in its own namespace,
// configured by importing keepalived.conf through config-api), run through the seed's tests with
// assertions. Faster settings than the seed's so that the run stays short in the slow guest:
// VRRPv3 adverts every 0.1 s, a TCP check every second with one retry.

const conf = (d: 1 | 2) => `global_defs {
   router_id LVS_DEVEL
   vrrp_version 3
}
vrrp_instance VI_1 {
    state ${d === 1 ? 'MASTER' : 'BACKUP'}
    interface eth0
    virtual_router_id 51
    priority ${d === 1 ? 100 : 99}
    advert_int 0.1
    virtual_ipaddress {
        ${addresses.vip}
    }
}
virtual_server ${addresses.vip} 80 {
    delay_loop 1
    lb_algo wrr
    lb_kind DR
    protocol TCP
    real_server ${addresses.rs1} 80 {
        weight 3
        TCP_CHECK {
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
    real_server ${addresses.rs2} 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
}
`;

const opts: ScenarioOptions = {
  // A check every 1 s, one retry 1 s later, connect timeout 1 s; the rest is the slow guest.
  detectMs: 6_000,
  failoverGapMs: 1_000,
  failbackGapMs: 1_000,
  weights: { rs1: 3, rs2: 1 },
  splitRequests: 40,
  wrkSeconds: 3,
  probeIntervalMs: 20,
  say: () => undefined,
};

describe('the seeds cluster on Fulcrum (acceptance)', () => {
  let c: Cluster;
  beforeAll(async () => {
    requireLab();
    c = await startCluster({});
    mkdirSync('/run/fulcrum-demo/conf', { recursive: true });
    const files = { director1: '/run/fulcrum-demo/conf/director1.conf', director2: '/run/fulcrum-demo/conf/director2.conf' };
    writeFileSync(files.director1, conf(1));
    writeFileSync(files.director2, conf(2));
    await importKeepalived(c, files, () => undefined);
    await waitReady(c, opts.weights);
  }, 1_500_000);
  afterAll(() => c?.teardown(), 60_000);
  // wrr's 3:1 over 40 new connections: 30/10, give or take one round of four (a client port whose IPVS
  // entry is still there from an earlier connection goes where that one went); 1:1 would be 20/20.
  const expectWeighted = (f: Record<string, number | string>) => {
    expect(f.errors).toBe(0);
    expect(Number(f.rs1) + Number(f.rs2)).toBe(opts.splitRequests);
    expect(Math.abs(Number(f.rs1) - 30)).toBeLessThanOrEqual(opts.weights.rs1 + opts.weights.rs2);
  };
  // The last lines of every process; of a probe (a line per request, which would fill the dump) only its errors.
  const dumpOnFailure = () =>
    onTestFailed(() =>
      console.error(
        c.t
          .processes()
          .map((p) => {
            const lines = p.output().trimEnd().split('\n');
            const shown = p.name === 'probe' ? lines.filter((l) => l.includes('"err"')).slice(-20) : lines.slice(-25);
            return `--- ${p.name} in ${p.ns} (pid ${p.pid}${p.running ? '' : ', exited'})\n${shown.map((l) => l.slice(0, 400)).join('\n')}`;
          })
          .join('\n'),
      ),
    );

  it('spreads the load by weight with no errors', async () => {
    dumpOnFailure();
    const r = await loadStep(c, opts);
    expectWeighted(r.figures);
  }, 120_000);

  it('stops sending to a real server whose nginx stopped within the check window, with no error after', async () => {
    dumpOnFailure();
    const r = await stopRealServerStep(c, opts);
    console.info(`stop rs1: ${r.observed}`);
    // 0: the first look after the stop already found it gone (a look takes seconds in a busy guest).
    expect(r.figures.detectedMs).toBeGreaterThanOrEqual(0);
    expect(r.figures.detectedMs).toBeLessThanOrEqual(opts.detectMs);
    expect(r.figures.lastFailureMs).toBeLessThanOrEqual(opts.detectMs);
    expect(r.figures.errorsAfter).toBe(0);
  }, 120_000);

  it('shares by weight again when it is back', async () => {
    dumpOnFailure();
    const r = await startRealServerStep(c, opts);
    console.info(`start rs1: ${r.observed}`);
    expect(r.ok, r.observed).toBe(true);
    expectWeighted(r.figures);
  }, 120_000);

  it('moves the VIP to director2 within 1 s when director1 crashes, and an open download survives (IPVS sync)', async () => {
    dumpOnFailure();
    const download = c.t.exec('client', ['curl', '-sS', '-o', '/dev/null', '-w', '%{size_download} %{http_code}', '--max-time', '120', `http://${addresses.vip}${bigFile.path}`], { timeoutMs: 150_000 });
    // Long enough for the connection to be established and synced to director2.
    await new Promise((r) => setTimeout(r, 3000));
    const r = await crashMasterStep(c, opts);
    console.info(`crash director1: ${r.observed}`);
    // What director2's agents did in the first seconds: where a long outage went.
    const crashAt = Number(r.figures.crashAt ?? 0);
    for (const service of ['vrrp-agent', 'ipvs-agent'] as const) {
      const lines = c.output('director2', service).split('\n').filter((l) => {
        const at = /"time":"([^"]+)"/.exec(l);
        return at?.[1] !== undefined && Date.parse(at[1]) >= crashAt && Date.parse(at[1]) <= crashAt + 5000;
      });
      console.info(`director2 ${service} after the crash:\n${lines.map((l) => l.slice(0, 400)).join('\n')}`);
    }
    expect(r.figures.takeoverMs).toBeGreaterThan(0);
    expect(r.figures.gapMs).toBeLessThan(opts.failoverGapMs);
    expect(await c.vipHolder()).toBe('director2');
    const { stdout } = await download;
    expect(stdout.trim()).toBe(`${bigFile.bytes} 200`);
  }, 240_000);

  it('gives the VIP back to director1 when it returns', async () => {
    dumpOnFailure();
    const r = await restoreMasterStep(c, opts);
    console.info(`restore director1: ${r.observed}`);
    expect(r.ok, r.observed).toBe(true);
    // Restored like a reboot, with an empty IPVS table: it claimed the VIP only once its table was programmed.
    expect(r.figures.tableMs, r.observed).toBeGreaterThanOrEqual(0);
    expect(r.figures.holdMs, r.observed).toBeGreaterThanOrEqual(r.figures.tableMs as number);
    expect(r.figures.masterMs, r.observed).toBeGreaterThan(r.figures.tableMs as number);
    expect(await c.vipHolder()).toBe('director1');
  }, 1_200_000);
});
