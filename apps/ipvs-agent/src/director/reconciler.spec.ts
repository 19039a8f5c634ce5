import type { EventDataInput, VirtualService } from '@fulcrum/schemas';
import { virtualService } from '@fulcrum/schemas';
import { dumpToTable } from '@fulcrum/netlink';
import { InMemoryIpvs } from '@fulcrum/netlink/testing';
import { eventually, memoryLogger } from '@fulcrum/testing';
import { Registry } from 'prom-client';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { DirectorMetrics } from './metrics.js';
import type { ReconcilerOptions } from './reconciler.js';
import { Reconciler } from './reconciler.js';

const vs = (id: string, address: string, servers: [string, number][], over: Partial<z.input<typeof virtualService>> = {}): VirtualService =>
  virtualService.parse({
    kind: 'virtual-service',
    id,
    match: { kind: 'address', protocol: 'tcp', address, port: 80 },
    scheduler: 'wrr',
    forwarding: 'dr',
    realServers: servers.map(([a, weight]) => ({ address: a, port: 80, weight })),
    ...over,
  });

const web = vs('web', '10.0.0.1', [['10.0.1.1', 3], ['10.0.1.2', 1]]);
const api = vs('api', '10.0.0.2', [['10.0.1.3', 1]]);
const weightsOf = async (k: InMemoryIpvs) =>
  Object.fromEntries(dumpToTable(await k.dump()).services.flatMap((s) => s.destinations.map((d) => [`${s.key.kind === 'addr' ? s.key.address : ''}>${d.address}`, d.weight])));

function setup(opts: Partial<ReconcilerOptions> = {}) {
  const kernel = new InMemoryIpvs();
  const { logger, records } = memoryLogger();
  const events: EventDataInput<'ipvs-applied'>[] = [];
  let clock = 1_000;
  const registry = new Registry();
  const metrics = new DirectorMetrics(registry);
  const r = new Reconciler({ ipvs: kernel, logger, driftCheckMs: 0, coalesceMs: 1, now: () => clock, onApplied: (e) => events.push(e), metrics, ...opts });
  return { kernel, r, records, events, registry, advance: (ms: number) => (clock += ms) };
}

describe('Reconciler', () => {
  it('writes nothing before the desired state is loaded, then builds the table; a second pass writes nothing', async () => {
    const { kernel, r, events } = setup();
    await r.start();
    expect(kernel.reads).toBe(1);
    await r.reconcileNow();
    expect(kernel.writeCount).toBe(0);
    await r.setDesired([web, api], 42);
    expect(await weightsOf(kernel)).toEqual({ '10.0.0.1>10.0.1.1': 3, '10.0.0.1>10.0.1.2': 1, '10.0.0.2>10.0.1.3': 1 });
    expect(events).toEqual([expect.objectContaining({ desiredRevision: 42, services: 2, destinations: 3, changes: { added: 5, updated: 0, removed: 0 }, failures: [] })]);
    const writes = kernel.writeCount;
    const reads = kernel.reads;
    expect(await r.reconcileNow()).toMatchObject({ ops: [] });
    expect(kernel.writeCount).toBe(writes);
    expect(kernel.reads).toBe(reads); // a no-op pass does not even dump
  });

  it('a restarted agent adopts the kernel table with one dump and zero writes', async () => {
    const first = setup();
    await first.r.start();
    const many = Array.from({ length: 200 }, (_, i) => vs(`s${i}`, `10.1.${i >> 8}.${i & 255}`, [['10.0.1.1', 1], ['10.0.1.2', 2]]));
    await first.r.setDesired(many, 1);
    await first.r.stop();
    const kernel = first.kernel;
    const before = kernel.writeCount;
    const { logger } = memoryLogger();
    const again = new Reconciler({ ipvs: kernel, logger, driftCheckMs: 0 });
    await again.start();
    await again.setDesired(many, 1);
    expect(kernel.writeCount).toBe(before);
  });

  it('one changed weight is one edit, and bursts of changes coalesce into one pass', async () => {
    const { kernel, r, events } = setup({ coalesceMs: 20 });
    await r.start();
    await r.setDesired([web, api], 1);
    const before = kernel.writes.length;
    r.putService(vs('web', '10.0.0.1', [['10.0.1.1', 5], ['10.0.1.2', 1]]), 2);
    r.putService(vs('web', '10.0.0.1', [['10.0.1.1', 6], ['10.0.1.2', 1]]), 3);
    r.deleteService('api', 4);
    await eventually('the pass ran', async () => (events.length === 2 ? true : undefined), 2000);
    expect(kernel.writes.slice(before).map((w) => w.op)).toEqual(['editDestination', 'deleteService']);
    expect(events[1]).toMatchObject({ desiredRevision: 4, changes: { added: 0, updated: 1, removed: 1 } });
  });

  it('drift: an entry changed and one deleted by hand are logged and put back', async () => {
    const { kernel, r, records, registry } = setup();
    await r.start();
    await r.setDesired([web], 1);
    const key = { kind: 'addr' as const, protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };
    await kernel.editDestination(key, { address: '10.0.1.1', port: 80, forward: 'route', weight: 9, upperThreshold: 0, lowerThreshold: 0, tunnelType: 'ipip', tunnelPort: 0, tunnelFlags: [] });
    await kernel.deleteDestination(key, { address: '10.0.1.2', port: 80 });
    await kernel.addService({ key: { ...key, address: '10.9.9.9' }, scheduler: 'rr', flags: { onePacket: false, shFallback: false, shPort: false, mhFallback: false, mhPort: false }, persistence: 0, destinations: [] });
    const result = await r.checkDrift();
    expect(result.ops.map((o) => o.op).sort()).toEqual(['addDestination', 'deleteService', 'editDestination']);
    expect(await weightsOf(kernel)).toEqual({ '10.0.0.1>10.0.1.1': 3, '10.0.0.1>10.0.1.2': 1 });
    const drift = records.filter((l) => l.msg === 'kernel table changed outside the agent').map((l) => `${l.change as string} ${l.object as string}`);
    expect(drift.sort()).toEqual(['addService tcp 10.9.9.9:80', 'deleteDestination tcp 10.0.0.1:80 -> 10.0.1.2:80', 'editDestination tcp 10.0.0.1:80 -> 10.0.1.1:80']);
    expect(await registry.getSingleMetricAsString('fulcrum_ipvs_drift_corrections_total')).toContain('fulcrum_ipvs_drift_corrections_total 3');
  });

  it('drain and enable: weight 0 then back, with replies; unknown servers are NOT_FOUND', async () => {
    const { kernel, r } = setup();
    await r.start();
    await r.setDesired([web], 1);
    const ref = { virtualService: 'web', address: '10.0.1.1', port: 80 };
    expect(await r.drain(ref)).toEqual({ ok: true, message: expect.stringMatching(/10\.0\.1\.1 port 80 of web drained/) });
    expect((await weightsOf(kernel))['10.0.0.1>10.0.1.1']).toBe(0);
    expect(await r.enable(ref)).toMatchObject({ ok: true });
    expect((await weightsOf(kernel))['10.0.0.1>10.0.1.1']).toBe(3);
    expect(await r.drain({ ...ref, address: '10.0.1.7' })).toMatchObject({ ok: false, code: 'NOT_FOUND', message: expect.stringContaining('no real server 10.0.1.7') });
    expect(await r.drain({ ...ref, virtualService: 'nope' })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });

  it('a real server removed from the desired state is drained to weight 0, then deleted after drainMs', async () => {
    const { kernel, r, advance } = setup({ drainMs: 30_000 });
    await r.start();
    await r.setDesired([web], 1);
    await r.setDesired([vs('web', '10.0.0.1', [['10.0.1.2', 1]])], 2);
    expect(await weightsOf(kernel)).toEqual({ '10.0.0.1>10.0.1.1': 0, '10.0.0.1>10.0.1.2': 1 });
    advance(10_000);
    await r.reconcileNow();
    expect(await weightsOf(kernel)).toHaveProperty(['10.0.0.1>10.0.1.1'], 0);
    advance(20_000);
    await r.reconcileNow();
    expect(await weightsOf(kernel)).toEqual({ '10.0.0.1>10.0.1.2': 1 });
    await r.stop();
  });

  it('health events: down removes (or inhibits to 0), up restores', async () => {
    const { kernel, r } = setup({ coalesceMs: 1 });
    await r.start();
    await r.setDesired([web, vs('inh', '10.0.0.3', [['10.0.1.1', 2]], { inhibitOnFailure: true })], 1);
    r.setHealth('web', '10.0.1.1', 80, { state: 'down' });
    r.setHealth('inh', '10.0.1.1', 80, { state: 'down' });
    await eventually('applied', async () => ((await weightsOf(kernel))['10.0.0.3>10.0.1.1'] === 0 ? true : undefined), 2000);
    expect(await weightsOf(kernel)).toEqual({ '10.0.0.1>10.0.1.2': 1, '10.0.0.3>10.0.1.1': 0 });
    r.setHealth('web', '10.0.1.1', 80, { state: 'up' });
    await eventually('restored', async () => ((await weightsOf(kernel))['10.0.0.1>10.0.1.1'] === 3 ? true : undefined), 2000);
  });

  it('a write the kernel refuses is reported in the event and retried after a fresh dump', async () => {
    const { kernel, r, events } = setup({ retryMs: 10 });
    await r.start();
    await r.setDesired([vs('new', '10.0.0.5', [['10.0.1.1', 1]], { scheduler: 'twos' }), web], 1);
    // The service is refused (no twos scheduler in 6.1), so is its destination; the other service is built.
    expect(events[0]?.failures).toEqual([
      { operation: 'addService tcp 10.0.0.5:80', message: expect.stringMatching(/twos/) },
      { operation: 'addDestination tcp 10.0.0.5:80 -> 10.0.1.1:80', message: expect.stringMatching(/ESRCH/) },
    ]);
    expect(await weightsOf(kernel)).toEqual({ '10.0.0.1>10.0.1.1': 3, '10.0.0.1>10.0.1.2': 1 });
    const reads = kernel.reads;
    await eventually('retried with a dump', async () => (kernel.reads > reads ? true : undefined), 2000);
    await r.stop();
  });

  it('exposes the kernel counters per service and real server from the dump', async () => {
    const { kernel, r, registry } = setup();
    await r.start();
    await r.setDesired([web], 1);
    const key = { kind: 'addr' as const, protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };
    kernel.setStats(key, { conns: 12n, inBytes: 3000n });
    kernel.setStats(key, { conns: 7n }, { address: '10.0.1.1', port: 80 });
    await r.checkDrift();
    const text = await registry.metrics();
    expect(text).toContain('fulcrum_ipvs_service_connections{service="tcp 10.0.0.1:80"} 12');
    expect(text).toContain('fulcrum_ipvs_service_in_bytes{service="tcp 10.0.0.1:80"} 3000');
    expect(text).toContain('fulcrum_ipvs_destination_connections{service="tcp 10.0.0.1:80",destination="10.0.1.1:80"} 7');
    expect(text).toContain('fulcrum_ipvs_destination_weight{service="tcp 10.0.0.1:80",destination="10.0.1.2:80"} 1');
  });

  it('passes after single changes look only at those services, and a full pass afterwards finds nothing to do', async () => {
    const { kernel, r, records } = setup({ coalesceMs: 1 });
    await r.start();
    const many = Array.from({ length: 50 }, (_, i) => vs(`s${i}`, `10.1.0.${i + 1}`, [['10.0.1.1', 1]]));
    await r.setDesired([web, api, ...many], 1);
    r.putService(vs('api', '10.0.0.9', [['10.0.1.3', 1]]), 2); // a new key: new service, old one removed
    r.deleteService('s7', 3);
    r.putService(vs('dup', '10.0.0.1', [['10.0.1.8', 1]]), 4); // web's key: refused, web untouched
    await eventually('applied', async () => ('10.0.0.9>10.0.1.3' in (await weightsOf(kernel)) ? true : undefined), 2000);
    const w = await weightsOf(kernel);
    expect(w).not.toHaveProperty(['10.0.0.2>10.0.1.3']);
    expect(w).not.toHaveProperty(['10.1.0.8>10.0.1.1']);
    expect(w).toMatchObject({ '10.0.0.1>10.0.1.1': 3, '10.0.0.1>10.0.1.2': 1 });
    expect(w).not.toHaveProperty(['10.0.0.1>10.0.1.8']);
    expect(records.some((l) => l.virtualService === 'dup' && l.sameKeyAs === 'web')).toBe(true);
    expect((await r.reconcileNow()).ops).toEqual([]);
  });

  it('full passes reuse unchanged results, yet see every later change: health, drain, lag, quorum, a hand edit', async () => {
    const { kernel, r } = setup({ coalesceMs: 60_000 }); // no scheduled passes: only the full ones below
    await r.start();
    const sorry = vs('sorry', '10.0.0.4', [['10.0.1.5', 2], ['10.0.1.6', 2]], { quorum: 4, hysteresis: 1, sorryServer: { address: '10.0.9.9', port: 80 } });
    await r.setDesired([web, api, sorry], 1);
    expect((await r.reconcileNow()).ops).toEqual([]);
    r.setHealth('web', '10.0.1.1', 80, { state: 'down' });
    await r.reconcileNow();
    expect(await weightsOf(kernel)).not.toHaveProperty(['10.0.0.1>10.0.1.1']);
    await r.drain({ virtualService: 'api', address: '10.0.1.3', port: 80 });
    r.setLagging([{ virtualService: 'web', address: '10.0.1.2', port: 80 }]);
    await r.reconcileNow();
    expect(await weightsOf(kernel)).toMatchObject({ '10.0.0.1>10.0.1.2': 0, '10.0.0.2>10.0.1.3': 0, '10.0.0.4>10.0.1.5': 2 });
    // Quorum lost (live weight 2 < 4 - 1): the sorry server alone; it stays so across full passes.
    r.setHealth('sorry', '10.0.1.5', 80, { state: 'down' });
    await r.reconcileNow();
    for (let i = 0; i < 2; i++) expect((await r.reconcileNow()).ops).toEqual([]);
    expect(Object.keys(await weightsOf(kernel)).filter((k) => k.startsWith('10.0.0.4'))).toEqual(['10.0.0.4>10.0.9.9']);
    // A weight changed by hand: found by the drift check, which compares everything again.
    await kernel.editDestination({ kind: 'addr', protocol: 'tcp', address: '10.0.0.2', port: 80 }, { address: '10.0.1.3', port: 80, forward: 'route', weight: 9, upperThreshold: 0, lowerThreshold: 0, tunnelType: 'ipip', tunnelPort: 0, tunnelFlags: [] });
    expect((await r.checkDrift()).ops).toHaveLength(1);
    expect(await weightsOf(kernel)).toMatchObject({ '10.0.0.2>10.0.1.3': 0 });
    await r.stop();
  });
});
