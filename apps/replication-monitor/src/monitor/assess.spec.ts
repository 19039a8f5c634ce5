import { describe, expect, it } from 'vitest';
import { assess, healthChanged } from './assess.js';
import type { ClusterShape, ClusterView } from './assess.js';
import type { NodeSample, ReplicaView } from './sample.js';

const shape: ClusterShape = {
  nodes: [
    { name: 'db1', address: '10.0.0.1', port: 3306, role: 'primary' },
    { name: 'db2', address: '10.0.0.2', port: 3306, role: 'replica' },
    { name: 'db3', address: '10.0.0.3', port: 3306, role: 'replica' },
  ],
  lag: { warnSeconds: 5, maxSeconds: 30 },
};

const from = (address: string, extra: Partial<ReplicaView> = {}): ReplicaView => ({
  sourceHost: address,
  sourcePort: 3306,
  ioRunning: true,
  sqlRunning: true,
  secondsBehind: 0,
  lastIoError: null,
  lastSqlError: null,
  ...extra,
});
const sample = (node: string, replica: ReplicaView | null, extra: Partial<NodeSample> = {}): NodeSample => ({ node, at: 0, failure: null, replica, queries: 3, ...extra });
const healthy = (extra: Partial<ReplicaView> = {}) =>
  new Map([
    ['db1', sample('db1', null)],
    ['db2', sample('db2', from('10.0.0.1', extra))],
    ['db3', sample('db3', from('10.0.0.1'))],
  ]);
const run = (samples: Map<string, NodeSample>, previous: ClusterView | null = null, hb: number | null = null) =>
  assess({ cluster: shape, samples, previous, heartbeatLag: () => hb });

describe('assess', () => {
  it('a healthy cluster: the configured primary, replicas ok with Seconds_Behind_Master as lag', () => {
    const v = run(healthy());
    expect(v.primary).toBe('db1');
    expect(v.nodes.get('db1')).toMatchObject({ role: 'primary', state: 'ok' });
    expect(v.nodes.get('db2')).toMatchObject({ role: 'replica', state: 'ok', cause: 'running', lagSeconds: 0, lagSource: 'seconds-behind-master' });
  });

  it('prefers the heartbeat lag over Seconds_Behind_Master', () => {
    expect(run(healthy({ secondsBehind: 3 }), null, 0.042).nodes.get('db2')).toMatchObject({ lagSeconds: 0.042, lagSource: 'heartbeat' });
  });

  it.each([
    [{ sqlRunning: false, lastSqlError: "1062 Duplicate entry '1'" }, 'sql-stopped', /SQL thread not running: 1062 Duplicate entry/],
    [{ ioRunning: false, lastIoError: '2003 cannot connect' }, 'io-stopped', /IO thread .* not running: 2003/],
    [{ sourceHost: '10.9.9.9' }, 'wrong-source', /replicates from 10\.9\.9\.9:3306, not from the primary db1/],
  ])('a replica with %o is broken (%s) and says why', (extra, cause, message) => {
    const h = run(healthy(extra)).nodes.get('db2');
    expect(h).toMatchObject({ state: 'broken', cause });
    expect(h?.message).toMatch(message);
  });

  it('a read-only node that replicates from nobody while the primary answers is broken, not a new primary', () => {
    const s = healthy();
    s.set('db2', sample('db2', null, { readOnly: true }));
    const v = run(s);
    expect(v.primary).toBe('db1');
    expect(v.nodes.get('db2')).toMatchObject({ role: 'replica', state: 'broken', cause: 'not-replicating' });
    expect(v.heartbeat).toEqual({ node: 'db1', withheld: null });
  });

  it('a failure is unreachable with the failure as reason', () => {
    const s = healthy();
    s.set('db3', { node: 'db3', at: 0, failure: { kind: 'login-refused', message: 'login as mon refused' }, replica: null, queries: 0 });
    expect(run(s).nodes.get('db3')).toMatchObject({ state: 'unreachable', cause: 'login-refused', message: 'login as mon refused' });
  });

  it('lag hysteresis: out above maxSeconds, back only at warnSeconds or less', () => {
    const v1 = run(healthy({ secondsBehind: 20 }));
    expect(v1.nodes.get('db2')).toMatchObject({ state: 'ok', cause: 'lag-warning' });
    const v2 = run(healthy({ secondsBehind: 31 }), v1);
    expect(v2.nodes.get('db2')).toMatchObject({ state: 'lagging', cause: 'lagging' });
    expect(v2.nodes.get('db2')?.message).toMatch(/31 s behind db1, beyond the 30 s threshold/);
    const v3 = run(healthy({ secondsBehind: 20 }), v2);
    expect(v3.nodes.get('db2')).toMatchObject({ state: 'lagging', cause: 'catching-up' });
    const v4 = run(healthy({ secondsBehind: 5 }), v3);
    expect(v4.nodes.get('db2')).toMatchObject({ state: 'ok', cause: 'running' });
  });

  it('a replica repaired after being broken returns only once caught up', () => {
    const broken = run(healthy({ sqlRunning: false }));
    expect(run(healthy({ secondsBehind: 10 }), broken).nodes.get('db2')?.state).toBe('lagging');
    expect(run(healthy({ secondsBehind: 2 }), broken).nodes.get('db2')?.state).toBe('ok');
  });

  it('follows the replicas to a new primary (a promotion), and the old primary becomes a replica', () => {
    const before = run(healthy());
    const s = new Map([
      ['db1', sample('db1', from('10.0.0.2'))],
      ['db2', sample('db2', null)],
      ['db3', sample('db3', from('10.0.0.2'))],
    ]);
    const v = run(s, before);
    expect(v.primary).toBe('db2');
    expect(v.nodes.get('db1')).toMatchObject({ role: 'replica', state: 'ok' });
    expect(v.nodes.get('db2')).toMatchObject({ role: 'primary', state: 'ok' });
  });

  it('with the primary gone, the only writable node replicating from nobody is the new primary', () => {
    const two: ClusterShape = { ...shape, nodes: shape.nodes.slice(0, 2) };
    const prev = assess({ cluster: two, samples: new Map([['db1', sample('db1', null)], ['db2', sample('db2', from('10.0.0.1'))]]), previous: null, heartbeatLag: () => null });
    const dead: NodeSample = { node: 'db1', at: 0, failure: { kind: 'unreachable', message: 'gone' }, replica: null, queries: 0 };
    const stillRo = assess({ cluster: two, samples: new Map([['db1', dead], ['db2', sample('db2', null, { readOnly: true })]]), previous: prev, heartbeatLag: () => null });
    expect(stillRo.primary).toBe('db1');
    const promoted = assess({ cluster: two, samples: new Map([['db1', dead], ['db2', sample('db2', null, { readOnly: false })]]), previous: prev, heartbeatLag: () => null });
    expect(promoted.primary).toBe('db2');
  });

  it('writes the heartbeat on the primary only while it is the one writable node replicating from nobody', () => {
    const s = healthy();
    s.set('db1', sample('db1', null, { readOnly: false }));
    expect(run(s).heartbeat).toEqual({ node: 'db1', withheld: null });
    // A heartbeat table that cannot be read on a replica does not move the fence.
    s.set('db3', sample('db3', from('10.0.0.1'), { heartbeatError: 'no such table' }));
    expect(run(s).heartbeat.node).toBe('db1');
  });

  it('two primaries (db2 promoted, db1 not yet read-only): heartbeat on neither, both say so in an event', () => {
    const before = run(healthy());
    const s = healthy();
    s.set('db2', sample('db2', null, { readOnly: false }));
    const v = run(s, before);
    expect(v.primary).toBe('db1');
    expect(v.heartbeat.node).toBeNull();
    expect(v.heartbeat.withheld).toMatch(/db2 also writable and replicating from nobody: two primaries/);
    const db1 = v.nodes.get('db1');
    const db2 = v.nodes.get('db2');
    expect(db1).toMatchObject({ role: 'primary', state: 'ok', cause: 'second-primary' });
    expect(db1?.message).toMatch(/no heartbeat: db2 also writable/);
    expect(db2).toMatchObject({ role: 'replica', state: 'broken', cause: 'second-primary' });
    expect(db2?.message).toMatch(/db2 is writable and replicates from nobody while db1 is the primary: two primaries/);
    expect(healthChanged(before.nodes.get('db1'), db1!)).toBe(true);
  });

  it('the old primary made read-only: the promoted node is the primary and takes the heartbeat', () => {
    // Two nodes, so no replica's vote decides: the read-only flag does (with db3 still on db1, db1 keeps the role).
    const two: ClusterShape = { ...shape, nodes: shape.nodes.slice(0, 2) };
    const at = (samples: Map<string, NodeSample>, previous: ClusterView | null) => assess({ cluster: two, samples, previous, heartbeatLag: () => null });
    const before = at(new Map([['db1', sample('db1', null, { readOnly: false })], ['db2', sample('db2', from('10.0.0.1'))]]), null);
    const v = at(new Map([['db1', sample('db1', null, { readOnly: true })], ['db2', sample('db2', null, { readOnly: false })]]), before);
    expect(v.primary).toBe('db2');
    expect(v.heartbeat).toEqual({ node: 'db2', withheld: null });
    expect(v.nodes.get('db1')).toMatchObject({ role: 'replica', state: 'broken', cause: 'not-replicating' });
    const threeStillOnDb1 = healthy();
    threeStillOnDb1.set('db1', sample('db1', null, { readOnly: true }));
    threeStillOnDb1.set('db2', sample('db2', null, { readOnly: false }));
    expect(run(threeStillOnDb1, run(healthy())).heartbeat).toEqual({ node: null, withheld: 'db1 is read-only' });
  });

  it.each([
    ['read-only', sample('db1', null, { readOnly: true }), /db1 is read-only/],
    ['replicating', sample('db1', from('10.9.9.9')), /db1 replicates from 10\.9\.9\.9:3306/],
    ['unreachable', { node: 'db1', at: 0, failure: { kind: 'timeout' as const, message: 'slow' }, replica: null, queries: 0 }, /db1 \(the primary\) did not answer/],
  ])('no heartbeat on a primary that is %s', (_what, primarySample, why) => {
    const s = healthy();
    s.set('db1', primarySample);
    const v = run(s);
    expect(v.primary).toBe('db1');
    expect(v.heartbeat.node).toBeNull();
    expect(v.heartbeat.withheld).toMatch(why);
  });

  it('Sentinel decides when configured', () => {
    expect(assess({ cluster: shape, samples: healthy(), previous: null, heartbeatLag: () => null, sentinelPrimary: 'db3' }).primary).toBe('db3');
  });

  it('a change of state, role or cause is a change; a new lag figure alone is not', () => {
    const a = run(healthy({ secondsBehind: 1 })).nodes.get('db2');
    const b = run(healthy({ secondsBehind: 2 })).nodes.get('db2');
    const c = run(healthy({ secondsBehind: 6 })).nodes.get('db2');
    expect(healthChanged(a, b!)).toBe(false);
    expect(healthChanged(b, c!)).toBe(true);
    expect(healthChanged(undefined, a!)).toBe(true);
  });
});
