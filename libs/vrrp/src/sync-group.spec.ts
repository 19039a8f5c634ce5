import { describe, expect, it } from 'vitest';
import { VrrpInstance } from './instance.js';
import type { VrrpInstanceConfig } from './instance.js';
import { syncGroupDecision } from './sync-group.js';
import type { SyncGroupMember } from './sync-group.js';
import { FakeClock } from './testing/index.js';

const m = (name: string, state: SyncGroupMember['state'], wantsMaster = false): SyncGroupMember => ({ name, state, wantsMaster });

describe('syncGroupDecision', () => {
  const cases: [string, SyncGroupMember[], ReturnType<typeof syncGroupDecision>][] = [
    ['all master: nothing to do', [m('outside', 'master'), m('inside', 'master')], { group: 'master', moves: [] }],
    [
      'one member faults: the masters go backup',
      [m('outside', 'master'), m('inside', 'fault'), m('dmz', 'master')],
      {
        group: 'backup',
        moves: [
          { name: 'outside', to: 'backup', why: 'sync group: inside is fault' },
          { name: 'dmz', to: 'backup', why: 'sync group: inside is fault' },
        ],
      },
    ],
    [
      'one member hears a better master: the others follow it to backup',
      [m('outside', 'backup'), m('inside', 'master')],
      { group: 'backup', moves: [{ name: 'inside', to: 'backup', why: 'sync group: outside is backup' }] },
    ],
    [
      'one wants master, the other still hears a master: hold (prefer backup to thrashing)',
      [m('outside', 'backup', true), m('inside', 'backup')],
      { group: 'backup', moves: [] },
    ],
    [
      'every member wants master: all go together',
      [m('outside', 'backup', true), m('inside', 'backup', true)],
      {
        group: 'master',
        moves: [
          { name: 'outside', to: 'master', why: 'sync group: every member is master or wants to be' },
          { name: 'inside', to: 'master', why: 'sync group: every member is master or wants to be' },
        ],
      },
    ],
    [
      'a member joins a master group wanting master: it follows',
      [m('outside', 'master'), m('inside', 'backup', true)],
      { group: 'master', moves: [{ name: 'inside', to: 'master', why: 'sync group: every member is master or wants to be' }] },
    ],
    ['a stopped member holds the group in backup', [m('outside', 'backup', true), m('inside', 'initialize')], { group: 'backup', moves: [] }],
  ];
  for (const [what, members, decision] of cases) {
    it(what, () => expect(syncGroupDecision(members)).toEqual(decision));
  }

  it('drives two real instances: neither takes over alone, both take over together', () => {
    const clock = new FakeClock();
    const cfg = (name: string, vrid: number): VrrpInstanceConfig => ({
      name,
      version: 3,
      family: 'ipv4',
      vrid,
      priority: 100,
      advertIntervalMs: 100,
      primaryAddress: '10.0.0.2',
      inSyncGroup: true,
    });
    const group = [new VrrpInstance(cfg('outside', 1), clock), new VrrpInstance(cfg('inside', 2), clock)];
    const [outside, inside] = group as [VrrpInstance, VrrpInstance];
    const members = () => group.map((vi) => m(vi.config.name, vi.state, vi.wantsMaster));
    const follow = () => {
      for (const move of syncGroupDecision(members()).moves) {
        group.find((vi) => vi.config.name === move.name)?.step({ type: 'syncGroup', to: move.to, why: move.why });
      }
    };
    outside.step({ type: 'startup' });
    inside.step({ type: 'startup' });
    clock.set(400);
    outside.step({ type: 'timerExpired', timer: 'masterDown' });
    follow();
    expect(members().map((x) => x.state)).toEqual(['backup', 'backup']);
    inside.step({ type: 'timerExpired', timer: 'masterDown' });
    follow();
    expect(members().map((x) => x.state)).toEqual(['master', 'master']);
    inside.step({ type: 'trackFault', source: 'eth1', failed: true, why: 'eth1 link down' });
    follow();
    expect(members().map((x) => x.state)).toEqual(['backup', 'fault']);
  });
});
