import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectBus, openStore } from '@fulcrum/bus';
import type { Bus } from '@fulcrum/bus';
import { buildTopology, modprobe, natAddresses as a, natTopology, namespaceOf, requireLab, runIn, type Topology } from '@fulcrum/lab';
import { EVENT_SUBJECTS, desiredBucket, desiredObject, keyOf } from '@fulcrum/schemas';
import type { EventOf } from '@fulcrum/schemas';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { stringify } from 'yaml';
import { heartbeatTableDdl } from './mysql/mysql-node.js';

// The whole path in the lab's kernel: a MariaDB primary (rs1) and replica (rs2) of the NAT topology, each a real
// mariadbd in its namespace; nats-server, replication-monitor and ipvs-agent (director role) as real processes on
// director1 (the bundles: they start in seconds in the slow guest, where the tsx bins take close to a minute).
// The replica's SQL thread stops -> its weight in the kernel's read service goes to 0 (read with Debian's
// ipvsadm), and reads through the VIP reach the primary only; it starts again -> weight back. The write service
// holds the primary only, and follows it when the DBA promotes the replica.

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const bundle = (app: string) => join(repo, 'apps', app, 'dist', 'main.mjs');
const CHECK_INTERVAL_S = 1;
/** Bounds for the slow guest on a crowded host, 5x and more what was measured there (changes 1-5 s, start 45-115 s); the measured times are printed. */
const CHANGE_LIMIT_MS = 60_000;
const START_LIMIT_MS = 600_000;

const ADMIN = { user: 'fulcrum', password: 'fulcrum-lab' };
const MONITOR = { user: 'repmon', password: 'repmon-lab' };
const HEARTBEAT_TABLE = 'fulcrum.heartbeat';
/** A link from the guest's root namespace (where this spec runs) to director1, to reach its NATS. */
const LINK = { host: '10.99.9.1', director: '10.99.9.2' };

const READ_PORT = 3306;
const WRITE_PORT = 3307;
const desired = [
  {
    kind: 'virtual-service',
    id: 'db-read',
    match: { kind: 'address', protocol: 'tcp', address: a.vip, port: READ_PORT },
    scheduler: 'rr',
    forwarding: 'nat',
    realServers: [
      { address: a.rs1, port: 3306, weight: 1 },
      { address: a.rs2, port: 3306, weight: 1 },
    ],
  },
  {
    kind: 'virtual-service',
    id: 'db-write',
    match: { kind: 'address', protocol: 'tcp', address: a.vip, port: WRITE_PORT },
    scheduler: 'rr',
    forwarding: 'nat',
    realServers: [
      { address: a.rs1, port: 3306, weight: 1 },
      { address: a.rs2, port: 3306, weight: 1 },
    ],
  },
  {
    kind: 'replication-cluster',
    id: 'db',
    engine: 'mariadb',
    nodes: [
      { name: 'db1', address: a.rs1, port: 3306, role: 'primary' },
      { name: 'db2', address: a.rs2, port: 3306, role: 'replica' },
    ],
    credentials: MONITOR,
    checkInterval: CHECK_INTERVAL_S,
    readPool: { virtualService: 'db-read' },
    writePool: { virtualService: 'db-write' },
    monitorHosts: ['data1'],
  },
].map((o) => desiredObject.parse(o));

/** Runs `f` until it returns a value other than undefined; throws after `limitMs`. Returns the value and the time. */
async function until<T>(what: string, limitMs: number, f: () => Promise<T | undefined>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await f();
      if (value !== undefined) return { value, ms: performance.now() - start };
    } catch (err) {
      last = err;
    }
    if (performance.now() - start > limitMs) throw new Error(`${what}: not within ${limitMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('replication-aware pools in the kernel', () => {
  let t: Topology;
  let bus: Bus;
  const events: EventOf<'replication'>[] = [];
  const dir = join(tmpdir(), `fulcrum-repl-kernel-${process.pid}`);
  const socket = (node: 'rs1' | 'rs2') => join(dir, node, 'mysqld.sock');
  const admin = (node: 'rs1' | 'rs2') => createConnection({ socketPath: socket(node), ...ADMIN });

  /** `service port -> { real server address: weight }` from `ipvsadm -Ln` in director1. */
  const kernelWeights = async (): Promise<Record<number, Record<string, number>>> => {
    const { stdout } = await t.exec('director1', ['ipvsadm', '-Ln']);
    const out: Record<number, Record<string, number>> = {};
    let current: Record<string, number> | null = null;
    for (const line of stdout.split('\n')) {
      const svc = /^TCP\s+[\d.]+:(\d+)/.exec(line);
      if (svc) {
        current = out[Number(svc[1])] = {};
        continue;
      }
      const dest = /^\s+->\s+([\d.]+):\d+\s+\S+\s+(\d+)/.exec(line);
      if (dest && current) current[dest[1] as string] = Number(dest[2]);
    }
    return out;
  };
  const weightIs = (port: number, rs: string, want: number) => async () => ((await kernelWeights())[port]?.[rs] === want ? true : undefined);

  /** server_id of the database each of `n` new connections through the VIP reached. */
  const serverIdsThroughVip = async (port: number, n: number): Promise<number[]> => {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const { stdout } = await t.exec('client', ['mariadb', '--no-defaults', '-h', a.vip, '-P', String(port), '-u', ADMIN.user, `-p${ADMIN.password}`, '-N', '-B', '-e', 'SELECT @@server_id'], { timeoutMs: 60_000 });
      ids.push(Number(stdout.trim()));
    }
    return ids.sort();
  };

  beforeAll(async () => {
    requireLab();
    for (const app of ['replication-monitor', 'ipvs-agent']) {
      if (!existsSync(bundle(app))) throw new Error(`${bundle(app)} is missing: run \`node tools/setup/build.mjs\` on the host before the lab`);
    }
    await modprobe('ip_vs', 'ip_vs_rr', 'veth');
    const spec = natTopology({ prefix: 'rm-' });
    t = await buildTopology(spec);

    // MariaDB: one system-table install, copied for each server; the users and the heartbeat table are made by
    // an init file with the binlog off, so that replication carries only what happens afterwards.
    mkdirSync(dir, { recursive: true });
    const template = join(dir, 'template');
    await runIn(
      null,
      ['mariadb-install-db', '--no-defaults', `--datadir=${template}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db', '--innodb-log-file-size=8M', '--innodb-buffer-pool-size=32M'],
      { timeoutMs: START_LIMIT_MS },
    );
    const init = join(dir, 'init.sql');
    writeFileSync(
      init,
      [
        'SET sql_log_bin=0;',
        `CREATE USER IF NOT EXISTS '${ADMIN.user}'@'%' IDENTIFIED BY '${ADMIN.password}';`,
        `GRANT ALL PRIVILEGES ON *.* TO '${ADMIN.user}'@'%' WITH GRANT OPTION;`,
        'CREATE DATABASE IF NOT EXISTS fulcrum;',
        `${heartbeatTableDdl(HEARTBEAT_TABLE)};`,
        // The monitor's least privilege (README: Grants).
        `CREATE USER IF NOT EXISTS '${MONITOR.user}'@'%' IDENTIFIED BY '${MONITOR.password}';`,
        `GRANT BINLOG MONITOR, SLAVE MONITOR ON *.* TO '${MONITOR.user}'@'%';`,
        `GRANT SELECT, INSERT, UPDATE ON ${HEARTBEAT_TABLE} TO '${MONITOR.user}'@'%';`,
        '',
      ].join('\n'),
    );
    const servers = (['rs1', 'rs2'] as const).map((node, i) => {
      const d = join(dir, node);
      mkdirSync(d, { recursive: true });
      return { node, d, serverId: i + 1 };
    });
    await Promise.all(servers.map(({ d }) => runIn(null, ['cp', '-a', template, join(d, 'data')], { timeoutMs: START_LIMIT_MS })));
    const dbs = servers.map(({ node, d, serverId }) =>
      t.spawn(
        node,
        [
          'mariadbd',
          '--no-defaults',
          `--datadir=${join(d, 'data')}`,
          `--socket=${socket(node)}`,
          `--pid-file=${join(d, 'mysqld.pid')}`,
          '--port=3306',
          '--bind-address=0.0.0.0',
          '--user=root',
          '--skip-name-resolve',
          `--init-file=${init}`,
          '--innodb-log-file-size=8M',
          '--innodb-buffer-pool-size=32M',
          `--server-id=${serverId}`,
          '--log-bin=mysql-bin',
          '--binlog-format=ROW',
          '--log-slave-updates=1',
        ],
        { name: `mariadbd-${node}` },
      ),
    );

    // NATS on director1, reachable from here over a veth of our own.
    const nats = t.spawn('director1', ['nats-server', '-a', '0.0.0.0', '-p', '4222', '-js', '-sd', join(dir, 'js')], { name: 'nats' });
    await runIn(null, ['ip', 'link', 'add', 'rm-host', 'type', 'veth', 'peer', 'name', 'host0', 'netns', namespaceOf(spec, 'director1')]);
    await runIn(null, ['sh', '-c', `ip addr add ${LINK.host}/30 dev rm-host && ip link set rm-host up`]);
    await t.sh('director1', `ip addr add ${LINK.director}/30 dev host0 && ip link set host0 up`);
    await Promise.all([nats.waitForListen(4222, START_LIMIT_MS), ...dbs.map((p) => p.waitForListen(3306, START_LIMIT_MS))]);

    const replica = await admin('rs2');
    try {
      await replica.query(
        `CHANGE MASTER TO MASTER_HOST='${a.rs1}', MASTER_PORT=3306, MASTER_USER='${ADMIN.user}', MASTER_PASSWORD='${ADMIN.password}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1`,
      );
      await replica.query('START SLAVE');
    } finally {
      await replica.end();
    }

    bus = await connectBus({ servers: `nats://${LINK.director}:4222`, name: 'spec', waitForServer: true });
    bus.subscribe(EVENT_SUBJECTS.replication, {}, (e) => void events.push(e));
    const store = await openStore(bus, desiredBucket);
    for (const o of desired) await store.put(keyOf(o), o);

    const common = { nats: { servers: ['nats://127.0.0.1:4222'] }, status: { address: '127.0.0.1', port: 0 }, log: { level: 'info' } };
    writeFileSync(join(dir, 'replication-monitor.yaml'), stringify({ ...common, host: 'data1', heartbeat: { intervalMs: 500 } }));
    writeFileSync(join(dir, 'ipvs-agent.yaml'), stringify({ ...common, host: 'director1', role: 'director' }));
    t.spawn('director1', [process.execPath, bundle('replication-monitor'), '--config', join(dir, 'replication-monitor.yaml')], { name: 'replication-monitor' });
    t.spawn('director1', [process.execPath, bundle('ipvs-agent'), '--config', join(dir, 'ipvs-agent.yaml')], { name: 'ipvs-agent' });
    try {
      const ok = await until('the monitor reports the replica ok', START_LIMIT_MS, async () => events.find((e) => e.data.node === 'db2' && e.data.state === 'ok'));
      const table = await until('both services in the kernel', START_LIMIT_MS, async () => {
        const w = await kernelWeights();
        return w[READ_PORT]?.[a.rs2] === 1 && w[WRITE_PORT]?.[a.rs1] === 1 ? w : undefined;
      });
      process.stderr.write(`replica ok after ${Math.round(ok.ms)} ms; services in the kernel ${Math.round(table.ms)} ms later\n`);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${t.logs().slice(-8000)}`, { cause: err });
    }
  }, 1_800_000);

  afterAll(async () => {
    await bus?.close();
    await t?.teardown();
  });

  it('replica SQL thread stopped -> weight 0 in the read service, reads reach the primary only; started -> weight back', async () => {
    onTestFailed(() => void process.stderr.write(t.logs().slice(-12_000)));
    // Before: both in the read service; the write service holds the primary only.
    expect(await kernelWeights()).toEqual({ [READ_PORT]: { [a.rs1]: 1, [a.rs2]: 1 }, [WRITE_PORT]: { [a.rs1]: 1, [a.rs2]: 0 } });

    const replica = await admin('rs2');
    try {
      await replica.query('STOP SLAVE SQL_THREAD');
      const down = await until('the replica at weight 0 in the read service', CHANGE_LIMIT_MS, weightIs(READ_PORT, a.rs2, 0));
      const broken = events.find((e) => e.data.node === 'db2' && e.data.state === 'broken');
      expect(broken?.data).toMatchObject({ role: 'replica', sqlRunning: false });
      expect(broken?.data.message).toMatch(/SQL thread not running/);
      expect(await kernelWeights()).toEqual({ [READ_PORT]: { [a.rs1]: 1, [a.rs2]: 0 }, [WRITE_PORT]: { [a.rs1]: 1, [a.rs2]: 0 } });
      expect(await serverIdsThroughVip(READ_PORT, 3)).toEqual([1, 1, 1]);

      await replica.query('START SLAVE SQL_THREAD');
      const up = await until('the replica back at weight 1', CHANGE_LIMIT_MS, weightIs(READ_PORT, a.rs2, 1));
      expect(await kernelWeights()).toEqual({ [READ_PORT]: { [a.rs1]: 1, [a.rs2]: 1 }, [WRITE_PORT]: { [a.rs1]: 1, [a.rs2]: 0 } });
      expect(await serverIdsThroughVip(WRITE_PORT, 2)).toEqual([1, 1]);
      process.stderr.write(`SQL thread stopped -> weight 0 in ${Math.round(down.ms)} ms; started -> weight 1 in ${Math.round(up.ms)} ms\n`);
    } finally {
      await replica.end();
    }
  }, 300_000);

  it('the DBA promotes the replica (db1 repointed at db2) -> the write service follows to db2', async () => {
    onTestFailed(() => void process.stderr.write(t.logs().slice(-12_000)));
    const [newPrimary, oldPrimary] = await Promise.all([admin('rs2'), admin('rs1')]);
    try {
      await newPrimary.query('STOP SLAVE');
      await newPrimary.query('RESET SLAVE ALL');
      await oldPrimary.query(
        `CHANGE MASTER TO MASTER_HOST='${a.rs2}', MASTER_PORT=3306, MASTER_USER='${ADMIN.user}', MASTER_PASSWORD='${ADMIN.password}', MASTER_USE_GTID=current_pos, MASTER_CONNECT_RETRY=1`,
      );
      await oldPrimary.query('START SLAVE');
      const moved = await until('the write service on db2 only', CHANGE_LIMIT_MS, async () => {
        const w = await kernelWeights();
        return w[WRITE_PORT]?.[a.rs2] === 1 && w[WRITE_PORT]?.[a.rs1] === 0 ? w : undefined;
      });
      expect(events.find((e) => e.data.node === 'db2' && e.data.role === 'primary')?.data.message).toMatch(/primary changed: db2 \(was db1\)/);
      expect(await serverIdsThroughVip(WRITE_PORT, 2)).toEqual([2, 2]);
      // Whether db1 then replicates from db2 is not asserted: the monitor's heartbeat row may be written on
      // db1 after db2 stopped replicating, an errant GTID that makes db1's IO thread refuse db2 (seen once in CI-like
      // runs; the monitor then rightly reports db1 broken). A DBA stops writes first; the monitor has no fence yet.
      process.stderr.write(`promotion -> write service on db2 in ${Math.round(moved.ms)} ms\n`);
    } finally {
      await Promise.all([newPrimary.end(), oldPrimary.end()]);
    }
  }, 300_000);
});
