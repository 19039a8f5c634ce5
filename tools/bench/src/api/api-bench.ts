// config-api benchmark: (1) a write through the API until an agent's desired-state watch (generation by generation) sees it, p50/p99 over 1,000 writes;
// (2) GET /v1/virtual-services with 1,000 services under autocannon. Everything on loopback: a real nats-server
// with JetStream and the real config-api bin (a separate process, as in production).
//
//   npx tsx tools/bench/src/api/api-bench.ts [--writes 1000] [--services 1000] [--seconds 10] [--connections 10]
import { randomBytes, scryptSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectBus, followDesiredState } from '@fulcrum/bus';
import { appBin } from '@fulcrum/runtime/testing';
import { freePort, makeTempDir, startNats, startProcess } from '@fulcrum/testing';
import autocannon from 'autocannon';
import { pino } from 'pino';

const { values } = parseArgs({
  options: {
    writes: { type: 'string', default: '1000' },
    services: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    'cpu-prof': { type: 'string' },
  },
});
const WRITES = Number(values.writes);
/** The issue's target for a write until an agent's watch sees it. */
const TARGET_P99_MS = 20;
const SERVICES = Number(values.services);
const TOKEN = randomBytes(24).toString('base64url');
const USER = { user: 'bench', password: randomBytes(12).toString('hex') };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const hash = (token: string) => {
  const salt = randomBytes(16);
  return `scrypt$16384$8$1$${salt.toString('base64url')}$${scryptSync(token, salt, 32, { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString('base64url')}`;
};

function table(rows: [string, string][]): string {
  const w = Math.max(...rows.map((r) => r[0].length));
  const v = Math.max(...rows.map((r) => r[1].length));
  const line = `+${'-'.repeat(w + 2)}+${'-'.repeat(v + 2)}+`;
  return [line, ...rows.map(([a, b], i) => `| ${a.padEnd(w)} | ${b.padStart(v)} |${i === 0 ? `\n${line}` : ''}`), line].join('\n');
}

const service = (i: number) => ({
  kind: 'virtual-service',
  id: `bench-${i}`,
  match: { kind: 'address', protocol: 'tcp', address: `10.${(i >> 8) & 255}.${i & 255}.1`, port: 80 },
  scheduler: 'wrr',
  forwarding: 'dr',
  healthChecks: [{ type: 'tcp', interval: 5 }],
  realServers: Array.from({ length: 4 }, (_, j) => ({ address: `10.200.${j}.${(i % 250) + 1}`, port: 80, weight: 1 + j })),
});

/**
 * One PATCH over a kept-alive connection with node:http. Global fetch (undici) cost this client 0.25-0.6 ms more per
 * request at p50 and several ms at p99 against a trivial loopback server: time that is the bench's, not the API's.
 */
function patch(agent: Agent, url: string, headers: Record<string, string>, body: string): Promise<{ status: number; etag: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PATCH', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const nats = await startNats({ auth: { users: [USER] } });
  const dir = makeTempDir('api-bench');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = join(dir, 'config-api.yaml');
  writeFileSync(config, `host: bench\nstatus:\n  port: 0\nlog:\n  level: warn\napi:\n  port: ${port}\n  docs: false\n  tokens:\n    - name: bench\n      role: admin\n      hash: ${hash(TOKEN)}\n`);
  const api = await startProcess({
    name: 'config-api',
    command: process.execPath,
    // --cpu-prof DIR: a CPU profile of config-api alone (written when it exits), to see where a write's time goes.
    args: [...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : []), appBin('config-api'), '--config', config],
    dir,
    host: '127.0.0.1',
    port,
    env: {
      FULCRUM_NATS__SERVERS: nats.url,
      FULCRUM_NATS__USER: USER.user,
      FULCRUM_NATS__PASSWORD: USER.password,
    },
    readyTimeoutMs: 60_000,
  });
  const bus = await connectBus({ servers: nats.url, name: 'bench-agent', auth: { user: USER.user, pass: USER.password }, logger: pino({ level: 'silent' }) });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  try {
    const load = await fetch(`${base}/v1/transactions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ changes: Array.from({ length: SERVICES }, (_, i) => ({ op: 'create', object: service(i) })) }),
    });
    if (!load.ok) throw new Error(`loading ${SERVICES} services: ${load.status} ${(await load.text()).slice(0, 500)}`);

    // The agent's side, as ipvs-agent follows the desired state: generation by generation (followDesiredState),
    // so a write counts as seen when the batch its commit's generation released arrives.
    const watch = await followDesiredState(bus, { logger: pino({ level: 'silent' }) });
    const iter = watch[Symbol.asyncIterator]();
    const first = await iter.next();
    if (first.done || first.value.release !== 'generation') throw new Error(`the snapshot was not released by a generation: ${JSON.stringify(first.value?.release)}`);
    const latencies: number[] = [];
    const answered: number[] = [];
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const loadBefore = loadavg()[0]!;
    for (let i = 0; i < WRITES; i++) {
      const id = `bench-${i % SERVICES}`;
      const t0 = performance.now();
      const res = await patch(agent, `${base}/v1/virtual-services/${id}/real-servers/10.200.0.${(i % SERVICES % 250) + 1}/80`, headers, JSON.stringify({ weight: 10 + (i % 50) }));
      if (res.status !== 200) throw new Error(`write ${i}: ${res.status} ${res.text}`);
      answered.push(performance.now() - t0);
      const revision = Number(JSON.parse(res.etag ?? '"0"'));
      for (let seen = false; !seen; ) {
        const next = await iter.next();
        if (next.done) throw new Error('the watch ended');
        if (next.value.release !== 'generation') throw new Error(`write ${i} was released by ${next.value.release}, not its generation`);
        seen = next.value.changes.some((c) => c.key === `vs.${id}` && c.revision >= revision);
      }
      latencies.push(performance.now() - t0);
    }
    watch.stop();
    agent.destroy();
    const loadAfter = loadavg()[0]!;
    latencies.sort((a, b) => a - b);
    answered.sort((a, b) => a - b);

    const list = await autocannon({ url: `${base}/v1/virtual-services`, connections: Number(values.connections), duration: Number(values.seconds), headers: { authorization: `Bearer ${TOKEN}` } });
    const body = await (await fetch(`${base}/v1/virtual-services`, { headers })).text();

    process.stdout.write(
      `${table([
        ['config-api on loopback', 'value'],
        [`write -> agent's generation watch, p50 (${WRITES} writes)`, `${percentile(latencies, 50).toFixed(2)} ms`],
        [`write -> agent's generation watch, p99`, `${percentile(latencies, 99).toFixed(2)} ms`],
        [`write -> agent's generation watch, max`, `${latencies[latencies.length - 1]!.toFixed(2)} ms`],
        [`target: p99 under ${TARGET_P99_MS} ms`, percentile(latencies, 99) < TARGET_P99_MS ? 'met' : 'NOT met'],
        ['write -> API response (committed), p50 / p99', `${percentile(answered, 50).toFixed(2)} / ${percentile(answered, 99).toFixed(2)} ms`],
        ['load average (1 min) before / after the writes', `${loadBefore.toFixed(1)} / ${loadAfter.toFixed(1)}`],
        [`GET /v1/virtual-services (${SERVICES} services, ${(body.length / 1e6).toFixed(2)} MB), requests/s`, list.requests.average.toFixed(1)],
        ['GET /v1/virtual-services, p50 latency', `${list.latency.p50} ms`],
        ['GET /v1/virtual-services, p99 latency', `${list.latency.p99} ms`],
        ['GET errors / non-2xx / timeouts', `${list.errors} / ${list.non2xx} / ${list.timeouts}`],
        ['load average (1 min) after the GETs', loadavg()[0]!.toFixed(1)],
      ])}\n`,
    );
  } finally {
    await bus.close();
    await api.dispose();
    await nats.dispose();
  }
}

await main();
