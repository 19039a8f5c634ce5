// replication-monitor benchmark, on the host (no kernel needed): a real MariaDB primary + replica and a real
// Redis master + replica on loopback.
//
//   npx tsx tools/bench/src/replication/run.ts [--trials 50] [--interval 0.2] [--load-seconds 30] [--out file.json]
//
// 1. Stopped replica: STOP SLAVE SQL_THREAD at t0; latency = the monitor's `broken` report - t0. Then START and
//    wait for `ok` before the next trial.
// 2. Lag crossing the threshold: LOCK TABLES on the replica's heartbeat table at t0 (the SQL thread waits; the true
//    lag grows from t0); latency = the `lagging` report - (t0 + maxSeconds). Then UNLOCK and wait for `ok`.
// 3. Load at the defaults (checkInterval 5 s, heartbeat every 500 ms): statements per second on each MariaDB
//    node, counted by the monitor and by the server (Questions), and commands per second on each Redis node.
// Detection latency is bounded by the poll interval, so it is reported next to it.
import { writeFileSync } from 'node:fs';
import { ClusterMonitor, MysqlNode, RedisNode } from '@fulcrum/replication-monitor';
import type { HealthChange, NodeState } from '@fulcrum/replication-monitor';
import { HEARTBEAT_TABLE, MONITOR_USER, startMariadbPair } from '@fulcrum/replication-monitor/testing';
import type { MariadbPair } from '@fulcrum/replication-monitor/testing';
import { memoryLogger, startRedis } from '@fulcrum/testing';
import { REPLICATION_DEFAULTS } from '@fulcrum/schemas';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { formatTable } from '../table.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const trials = opt('--trials', 50);
const intervalS = opt('--interval', 0.2);
const loadSeconds = opt('--load-seconds', 30);
const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined;
const MAX_LAG = 0.5;
const HEARTBEAT_MS = 50;
const TRIAL_TIMEOUT_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

function mariadbMonitor(pair: MariadbPair, intervalMs: number, heartbeatMs: number, onChange: (c: HealthChange) => void): ClusterMonitor {
  const nodes = [
    { name: 'db1', address: '127.0.0.1', port: pair.primary.port, role: 'primary' as const },
    { name: 'db2', address: '127.0.0.1', port: pair.replica.port, role: 'replica' as const },
  ];
  return new ClusterMonitor({
    id: 'bench',
    shape: { nodes, lag: { warnSeconds: MAX_LAG / 2, maxSeconds: MAX_LAG } },
    probes: nodes.map(
      (n) =>
        new MysqlNode({ node: n.name, engine: 'mariadb', address: n.address, port: n.port, ...MONITOR_USER, timeoutMs: 2000, heartbeat: { table: HEARTBEAT_TABLE, id: 'bench' } }),
    ),
    intervalMs,
    heartbeatMs,
    logger: memoryLogger('warn').logger,
    onChange,
  });
}

/** Resolves with the time the replica's state next becomes `state` (bounded). */
function waiter(): { next: (state: NodeState) => Promise<number>; onChange: (c: HealthChange) => void } {
  let want: { state: NodeState; resolve: (t: number) => void } | null = null;
  return {
    onChange: (c) => {
      if (c.health.node === 'db2' && want && c.health.state === want.state) {
        want.resolve(performance.now());
        want = null;
      }
    },
    next: (state) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${state} report within ${TRIAL_TIMEOUT_MS} ms`)), TRIAL_TIMEOUT_MS);
        want = { state, resolve: (t) => (clearTimeout(timer), resolve(t)) };
      }),
  };
}

async function questions(c: Connection): Promise<number> {
  const [rows] = await c.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Questions'");
  return Number(rows[0]?.Value ?? NaN);
}

async function main(): Promise<void> {
  const pair = await startMariadbPair();
  const redisMaster = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
  const redisReplica = await startRedis({ args: ['--repl-diskless-sync-delay', '0', '--replicaof', redisMaster.host, String(redisMaster.port)] });
  const replicaAdmin = await pair.admin(pair.replica);
  const results: Record<string, unknown> = { trials, intervalS, maxLagS: MAX_LAG, heartbeatMs: HEARTBEAT_MS };
  try {
    // 1 and 2: detection latency.
    const w = waiter();
    const monitor = mariadbMonitor(pair, intervalS * 1000, HEARTBEAT_MS, w.onChange);
    const firstOk = w.next('ok');
    monitor.start();
    await firstOk;
    const stopped: number[] = [];
    const lagged: number[] = [];
    for (let i = 0; i < trials; i++) {
      await sleep(Math.random() * intervalS * 1000); // a random phase against the poll timer
      const broken = w.next('broken');
      const t0 = performance.now();
      await replicaAdmin.query('STOP SLAVE SQL_THREAD');
      stopped.push((await broken) - t0);
      const ok = w.next('ok');
      await replicaAdmin.query('START SLAVE SQL_THREAD');
      await ok;
    }
    for (let i = 0; i < trials; i++) {
      await sleep(Math.random() * intervalS * 1000);
      const lagging = w.next('lagging');
      await replicaAdmin.query(`LOCK TABLES ${HEARTBEAT_TABLE} READ`);
      const t0 = performance.now();
      try {
        lagged.push((await lagging) - (t0 + MAX_LAG * 1000));
      } finally {
        await replicaAdmin.query('UNLOCK TABLES');
      }
      await w.next('ok');
    }
    await monitor.stop();
    results.stoppedReplicaMs = { p50: pct(stopped, 50), p99: pct(stopped, 99), max: Math.max(...stopped) };
    results.lagCrossingMs = { p50: pct(lagged, 50), p99: pct(lagged, 99), max: Math.max(...lagged) };

    // 3: load at the defaults.
    const primaryAdmin = await pair.admin(pair.primary);
    const sent = new Map<string, number>();
    const count = (node: string, n: number) => sent.set(node, (sent.get(node) ?? 0) + n);
    const nodes = [
      { name: 'db1', address: '127.0.0.1', port: pair.primary.port, role: 'primary' as const },
      { name: 'db2', address: '127.0.0.1', port: pair.replica.port, role: 'replica' as const },
    ];
    const rnodes = [
      { name: 'r1', address: '127.0.0.1', port: redisMaster.port, role: 'primary' as const },
      { name: 'r2', address: '127.0.0.1', port: redisReplica.port, role: 'replica' as const },
    ];
    const hbWrites = { mariadb: 0, redis: 0 };
    const countWrites = <T extends { writeHeartbeat(ts: number): Promise<void> }>(engine: keyof typeof hbWrites, p: T): T => {
      const orig = p.writeHeartbeat.bind(p);
      p.writeHeartbeat = async (ts) => {
        hbWrites[engine] += 1;
        await orig(ts);
      };
      return p;
    };
    const defaults = { intervalMs: REPLICATION_DEFAULTS.checkInterval * 1000, heartbeatMs: 500 };
    const lag = { warnSeconds: REPLICATION_DEFAULTS.warnLagSeconds, maxSeconds: REPLICATION_DEFAULTS.maxLagSeconds };
    const logger = memoryLogger('warn').logger;
    const mon = new ClusterMonitor({
      id: 'load',
      shape: { nodes, lag },
      probes: nodes.map((n) => countWrites('mariadb', new MysqlNode({ node: n.name, engine: 'mariadb', address: n.address, port: n.port, ...MONITOR_USER, timeoutMs: 2000, heartbeat: { table: HEARTBEAT_TABLE, id: 'load' } }))),
      ...defaults,
      logger,
      onChange: () => undefined,
      onRound: (r) => {
        for (const s of r.samples.values()) count(s.node, s.queries);
      },
    });
    const rmon = new ClusterMonitor({
      id: 'load-redis',
      shape: { nodes: rnodes, lag },
      probes: rnodes.map((n) => countWrites('redis', new RedisNode({ node: n.name, address: n.address, port: n.port, timeoutMs: 2000, heartbeatKey: 'fulcrum:heartbeat:load' }))),
      ...defaults,
      logger,
      onChange: () => undefined,
      onRound: (r) => {
        for (const s of r.samples.values()) count(s.node, s.queries);
      },
    });
    const q0 = [await questions(primaryAdmin), await questions(replicaAdmin)];
    const start = performance.now();
    mon.start();
    rmon.start();
    await sleep(loadSeconds * 1000);
    await Promise.all([mon.stop(), rmon.stop()]);
    const secs = (performance.now() - start) / 1000;
    // Each questions() call is one statement of its own: the first one is before the window, the second in it.
    const q1 = [(await questions(primaryAdmin)) - 1, (await questions(replicaAdmin)) - 1];
    await primaryAdmin.end();
    results.load = {
      seconds: secs,
      mariadb: {
        primary: { monitorPerSec: ((sent.get('db1') ?? 0) + hbWrites.mariadb) / secs, serverQuestionsPerSec: ((q1[0] as number) - (q0[0] as number)) / secs },
        replica: { monitorPerSec: (sent.get('db2') ?? 0) / secs, serverQuestionsPerSec: ((q1[1] as number) - (q0[1] as number)) / secs },
      },
      redis: { master: ((sent.get('r1') ?? 0) + hbWrites.redis) / secs, replica: (sent.get('r2') ?? 0) / secs },
      heartbeatWritesPerSec: { mariadb: hbWrites.mariadb / secs, redis: hbWrites.redis / secs },
    };
  } finally {
    await replicaAdmin.end();
    await Promise.all([pair.dispose(), redisMaster.dispose(), redisReplica.dispose()]);
  }
  const s = results.stoppedReplicaMs as { p50: number; p99: number; max: number };
  const l = results.lagCrossingMs as { p50: number; p99: number; max: number };
  const f = (n: number) => n.toFixed(1);
  process.stdout.write(
    `${formatTable(
      ['detection (MariaDB)', 'interval ms', 'p50 ms', 'p99 ms', 'max ms'],
      [
        ['stopped SQL thread', intervalS * 1000, f(s.p50), f(s.p99), f(s.max)],
        [`lag crosses ${MAX_LAG} s`, intervalS * 1000, f(l.p50), f(l.p99), f(l.max)],
      ],
    )}\n`,
  );
  const load = results.load as { mariadb: Record<string, { monitorPerSec: number; serverQuestionsPerSec: number }>; redis: Record<string, number> };
  process.stdout.write(
    `${formatTable(
      ['load at defaults (5 s, heartbeat 500 ms)', 'monitor q/s', 'server Questions/s'],
      [
        ['MariaDB primary', f2(load.mariadb.primary?.monitorPerSec), f2(load.mariadb.primary?.serverQuestionsPerSec)],
        ['MariaDB replica', f2(load.mariadb.replica?.monitorPerSec), f2(load.mariadb.replica?.serverQuestionsPerSec)],
        ['Redis master', f2(load.redis.master), null],
        ['Redis replica', f2(load.redis.replica), null],
      ],
    )}\n`,
  );
  if (out) writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
}

const f2 = (n: number | undefined) => (n === undefined ? null : n.toFixed(2));

await main();
