import type { IpvsDestination, IpvsService, IpvsTable } from '@fulcrum/schemas';
import { ipvsService } from '@fulcrum/schemas';
import { describeOp } from '@fulcrum/netlink';
import { InMemoryIpvs } from '@fulcrum/netlink/testing';
import { describe, expect, it } from 'vitest';
import { diffTables, pendingId } from './diff.js';
import type { ModelService } from './table-model.js';
import { toModel } from './table-model.js';
import { dumpToTable } from '@fulcrum/netlink';

const dest = (address: string, weight: number, over: Partial<IpvsDestination> = {}) => ({ address, port: 80, forward: 'route' as const, weight, ...over });
const svc = (address: string, dests: ReturnType<typeof dest>[], over: Partial<IpvsService> = {}): IpvsService =>
  ipvsService.parse({ key: { kind: 'addr', protocol: 'tcp', address, port: 80 }, scheduler: 'wrr', destinations: dests, ...over });
const table = (...services: IpvsService[]): IpvsTable => ({ services });
const ops = (cur: IpvsTable, want: IpvsTable, opts = {}) => diffTables(toModel(cur), toModel(want), opts).ops.map((o) => `${o.op} ${describeOp(o)}`);

describe('diffTables', () => {
  const base = table(svc('10.0.0.1', [dest('10.0.1.1', 3), dest('10.0.1.2', 1)]));

  it.each<[string, IpvsTable, IpvsTable, string[]]>([
    ['same table: nothing', base, base, []],
    ['from empty: service before its destinations', table(), base, ['addService tcp 10.0.0.1:80', 'addDestination tcp 10.0.0.1:80 -> 10.0.1.1:80', 'addDestination tcp 10.0.0.1:80 -> 10.0.1.2:80']],
    ['a weight change is one edit', base, table(svc('10.0.0.1', [dest('10.0.1.1', 5), dest('10.0.1.2', 1)])), ['editDestination tcp 10.0.0.1:80 -> 10.0.1.1:80']],
    ['forwarding change is an edit', base, table(svc('10.0.0.1', [dest('10.0.1.1', 3, { forward: 'tunnel' }), dest('10.0.1.2', 1)])), ['editDestination tcp 10.0.0.1:80 -> 10.0.1.1:80']],
    ['scheduler change edits the service only', base, table(svc('10.0.0.1', [dest('10.0.1.1', 3), dest('10.0.1.2', 1)], { scheduler: 'rr' })), ['editService tcp 10.0.0.1:80']],
    [
      'a changed key is a new service, the old one removed last',
      base,
      table(svc('10.0.0.2', [dest('10.0.1.1', 3)])),
      ['addService tcp 10.0.0.2:80', 'addDestination tcp 10.0.0.2:80 -> 10.0.1.1:80', 'deleteService tcp 10.0.0.1:80'],
    ],
    ['a weight-0 destination no longer wanted is deleted', table(svc('10.0.0.1', [dest('10.0.1.1', 0)])), table(svc('10.0.0.1', [])), ['deleteDestination tcp 10.0.0.1:80 -> 10.0.1.1:80']],
    ['non-canonical input compares equal', table(svc('2001:db8::1', [dest('2001:db8::10', 1)])), table(svc('2001:db8:0:0::1', [dest('2001:0db8::0010', 1)])), []],
  ])('%s', (_name, cur, want, expected) => {
    expect(ops(cur, want)).toEqual(expected);
  });

  it('a removed real server with weight goes to weight 0 first and is pending; deleted once mayRemove says so', () => {
    const want = table(svc('10.0.0.1', [dest('10.0.1.2', 1)]));
    const first = diffTables(toModel(base), toModel(want), { mayRemove: () => false });
    expect(first.ops).toEqual([{ op: 'editDestination', key: base.services[0]?.key, destination: expect.objectContaining({ address: '10.0.1.1', weight: 0 }) }]);
    expect(first.pending.map((p) => p.id)).toEqual(['tcp|10.0.0.1|80#10.0.1.1|80']);
    const drained = table(svc('10.0.0.1', [dest('10.0.1.1', 0), dest('10.0.1.2', 1)]));
    expect(diffTables(toModel(drained), toModel(want), { mayRemove: () => false }).ops).toEqual([]);
    expect(ops(drained, want, { mayRemove: () => true })).toEqual(['deleteDestination tcp 10.0.0.1:80 -> 10.0.1.1:80']);
    expect(ops(base, want, { drainBeforeRemove: false })).toEqual(['deleteDestination tcp 10.0.0.1:80 -> 10.0.1.1:80']);
    expect(pendingId(base.services[0]!.key, { address: '10.0.1.1', port: 80 })).toBe(first.pending[0]?.id);
  });

  it('the ops turn a kernel (in-memory double) from one random table into the other', async () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const randomTable = () =>
      table(
        ...Array.from({ length: 30 }, (_, i) => i)
          .filter(() => rnd(3) > 0)
          .map((i) => svc(`10.0.0.${i + 1}`, Array.from({ length: rnd(6) }, (_, j) => dest(`10.0.1.${j + 1}`, rnd(4))), { scheduler: rnd(2) ? 'wrr' : 'rr' })),
      );
    for (let round = 0; round < 20; round++) {
      const a = randomTable();
      const b = randomTable();
      const kernel = new InMemoryIpvs();
      for (const r of await kernel.apply(diffTables(toModel(table()), toModel(a)).ops)) expect(r.ok).toBe(true);
      const d = diffTables(toModel(dumpToTable(await kernel.dump())), toModel(b), { drainBeforeRemove: false });
      for (const r of await kernel.apply(d.ops)) expect(r.ok).toBe(true);
      expect(diffTables(toModel(dumpToTable(await kernel.dump())), toModel(b)).ops).toEqual([]);
    }
  });

  it('verified: a service found equal is skipped while both entries are the same objects, compared again once either is new', () => {
    const verified = new Map<string, { have: ModelService; want: ModelService }>();
    const cur = toModel(base);
    const same = toModel(base);
    expect(diffTables(cur, same, { verified }).ops).toEqual([]);
    expect([...verified.keys()]).toEqual(['tcp|10.0.0.1|80']);
    // Same objects: not looked at, even though the current entry was changed in place behind its back.
    const entry = cur.get('tcp|10.0.0.1|80') as ModelService;
    entry.dests.set('10.0.1.1|80', { ...(entry.dests.get('10.0.1.1|80') as IpvsDestination), weight: 9 });
    expect(diffTables(cur, same, { verified }).ops).toEqual([]);
    // A fresh current table (a dump): compared, the difference found, and the memo dropped until it is equal again.
    const dumped = toModel(table(svc('10.0.0.1', [dest('10.0.1.1', 9), dest('10.0.1.2', 1)])));
    expect(diffTables(dumped, same, { verified }).ops.map(describeOp)).toEqual(['tcp 10.0.0.1:80 -> 10.0.1.1:80']);
    expect(verified.size).toBe(0);
    // A service that is gone from the wanted table leaves the memo too.
    expect(diffTables(same, same, { verified }).ops).toEqual([]);
    expect(diffTables(same, toModel(table()), { verified }).ops.map((o) => o.op)).toEqual(['deleteService']);
    expect(verified.size).toBe(0);
  });
});
