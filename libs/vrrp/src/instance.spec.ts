import { describe, expect, it } from 'vitest';
import { VrrpInstance } from './instance.js';
import type { VrrpAction, VrrpEvent, VrrpInstanceConfig, VrrpState } from './instance.js';
import { FakeClock } from './testing/index.js';
import { effectivePriority, masterDownIntervalMs, skewMs } from './timing.js';

const base: VrrpInstanceConfig = {
  name: 'vi1',
  version: 3,
  family: 'ipv4',
  vrid: 1,
  priority: 100,
  advertIntervalMs: 1000,
  primaryAddress: '10.0.0.2',
};

/** An event, optionally at a clock time (ms). */
type Given = VrrpEvent & { at?: number };

const advert = (priority: number, from = '10.0.0.9', intervalMs = 1000): VrrpEvent => ({
  type: 'advertReceived',
  advert: { priority, intervalMs },
  from,
});
const startup: VrrpEvent = { type: 'startup' };
const masterDown: VrrpEvent = { type: 'timerExpired', timer: 'masterDown' };
const adverTimer: VrrpEvent = { type: 'timerExpired', timer: 'adver' };
const asMaster: Given[] = [startup, { ...masterDown, at: 3609.375 }];

function run(config: Partial<VrrpInstanceConfig>, given: Given[]) {
  const clock = new FakeClock();
  const vi = new VrrpInstance({ ...base, ...config }, clock);
  for (const { at, ...event } of given) {
    if (at !== undefined) clock.set(at);
    vi.step(event as VrrpEvent);
  }
  return { vi, clock };
}

interface Row {
  readonly rfc: string;
  readonly config?: Partial<VrrpInstanceConfig>;
  readonly given: Given[];
  readonly when: Given;
  readonly state: VrrpState;
  readonly actions: VrrpAction[];
}

/** The state tables of RFC 5798 6.4 (and RFC 3768 6.4, the same for v2), row by row. */
const rows: Row[] = [
  // 6.4.1 Initialize
  {
    rfc: '6.4.1 Startup, priority 255: send an advert, set the Adver_Timer, become master (advert before the ARPs)',
    config: { priority: 255 },
    given: [],
    when: startup,
    state: 'master',
    actions: [
      { type: 'sendAdvert', priority: 255 },
      { type: 'setTimer', timer: 'adver', ms: 1000 },
      { type: 'becomeMaster', from: 'initialize', why: 'startup: address owner (priority 255)' },
    ],
  },
  {
    rfc: '6.4.1 Startup, priority < 255: Master_Down_Timer = 3 x interval + skew, become backup',
    given: [],
    when: startup,
    state: 'backup',
    actions: [
      { type: 'becomeBackup', from: 'initialize', why: 'startup' },
      { type: 'setTimer', timer: 'masterDown', ms: 3609.375 },
    ],
  },
  {
    rfc: 'keepalived state MASTER: first master-down timer is one interval + the smallest skew',
    config: { version: 2, initialState: 'master' },
    given: [],
    when: startup,
    state: 'backup',
    actions: [
      { type: 'becomeBackup', from: 'initialize', why: 'startup: initial state MASTER, listening one interval first' },
      { type: 'setTimer', timer: 'masterDown', ms: 1003.906 },
    ],
  },
  {
    rfc: 'Fault: startup while a tracked object is down goes straight to fault',
    given: [{ type: 'trackFault', source: 'eth0', failed: true, why: 'eth0 link down' }],
    when: startup,
    state: 'fault',
    actions: [{ type: 'enterFault', from: 'initialize', why: 'startup: eth0 link down' }],
  },
  // 6.4.2 Backup
  {
    rfc: '6.4.2 Shutdown: cancel the Master_Down_Timer, go to initialize',
    given: [startup],
    when: { type: 'shutdown', why: 'SIGTERM' },
    state: 'initialize',
    actions: [
      { type: 'cancelTimer', timer: 'masterDown' },
      { type: 'enterInitialize', from: 'backup', why: 'SIGTERM' },
    ],
  },
  {
    rfc: '6.4.2 Master_Down_Timer fires: send an advert, set the Adver_Timer, become master',
    given: [startup, advert(120, '10.0.0.9')],
    when: { ...masterDown, at: 3609.375 },
    state: 'master',
    actions: [
      { type: 'sendAdvert', priority: 100 },
      { type: 'setTimer', timer: 'adver', ms: 1000 },
      { type: 'becomeMaster', from: 'backup', why: 'no advert from master 10.0.0.9 for 3609.375 ms' },
    ],
  },
  {
    rfc: '6.4.2 Advert with priority 0: Master_Down_Timer = Skew_Time',
    given: [startup],
    when: advert(0),
    state: 'backup',
    actions: [{ type: 'setTimer', timer: 'masterDown', ms: 609.375 }],
  },
  {
    rfc: '6.4.2 Advert with priority >= local: learn Master_Adver_Interval (v3), reset Master_Down_Timer',
    given: [startup],
    when: advert(100, '10.0.0.9', 100),
    state: 'backup',
    actions: [{ type: 'setTimer', timer: 'masterDown', ms: 360.937 }],
  },
  {
    rfc: '6.4.2 Lower priority advert and preempt: discard (the timer runs on)',
    given: [startup],
    when: advert(99),
    state: 'backup',
    actions: [],
  },
  {
    rfc: '6.4.2 Lower priority advert and preempt off (nopreempt): reset Master_Down_Timer',
    config: { preempt: false },
    given: [startup],
    when: advert(99),
    state: 'backup',
    actions: [{ type: 'setTimer', timer: 'masterDown', ms: 3609.375 }],
  },
  {
    rfc: 'keepalived preempt_delay: a lower master is accepted until the delay has run since it was first seen',
    config: { preemptDelayMs: 5000 },
    given: [startup, { ...advert(99), at: 1000 }, { ...advert(99), at: 2000 }],
    when: { ...advert(99), at: 5999 },
    state: 'backup',
    actions: [{ type: 'setTimer', timer: 'masterDown', ms: 3609.375 }],
  },
  {
    rfc: 'keepalived preempt_delay: once it has run, lower adverts are discarded as with plain preempt',
    config: { preemptDelayMs: 5000 },
    given: [startup, { ...advert(99), at: 1000 }, { ...advert(99), at: 5999 }],
    when: { ...advert(99), at: 6000 },
    state: 'backup',
    actions: [],
  },
  {
    rfc: 'v2 (RFC 3768): the advert interval is not learned, Master_Down_Interval stays 3 s + skew',
    config: { version: 2 },
    given: [startup],
    when: advert(200, '10.0.0.9', 1000),
    state: 'backup',
    actions: [{ type: 'setTimer', timer: 'masterDown', ms: 3609.375 }],
  },
  // 6.4.3 Master
  {
    rfc: '6.4.3 Adver_Timer fires: send an advert, reset the Adver_Timer',
    given: asMaster,
    when: { ...adverTimer, at: 4609.375 },
    state: 'master',
    actions: [
      { type: 'sendAdvert', priority: 100 },
      { type: 'setTimer', timer: 'adver', ms: 1000 },
    ],
  },
  {
    rfc: '6.4.3 Shutdown: cancel the Adver_Timer, send priority 0, go to initialize (addresses go last)',
    given: asMaster,
    when: { type: 'shutdown', why: 'SIGTERM' },
    state: 'initialize',
    actions: [
      { type: 'cancelTimer', timer: 'adver' },
      { type: 'sendAdvert', priority: 0 },
      { type: 'enterInitialize', from: 'master', why: 'SIGTERM' },
    ],
  },
  {
    rfc: '6.4.3 Advert with priority 0: send an advert, reset the Adver_Timer',
    given: asMaster,
    when: advert(0),
    state: 'master',
    actions: [
      { type: 'sendAdvert', priority: 100 },
      { type: 'setTimer', timer: 'adver', ms: 1000 },
    ],
  },
  {
    rfc: '6.4.3 Higher priority advert: cancel the Adver_Timer, learn its interval, become backup',
    given: asMaster,
    when: advert(101, '10.0.0.1', 50),
    state: 'backup',
    actions: [
      { type: 'cancelTimer', timer: 'adver' },
      { type: 'becomeBackup', from: 'master', why: '10.0.0.1 has higher priority 101 than ours (100)' },
      { type: 'setTimer', timer: 'masterDown', ms: 150 + 30.468 },
    ],
  },
  {
    rfc: '6.4.3 Equal priority and a higher sender address: become backup',
    given: asMaster,
    when: advert(100, '10.0.0.3'),
    state: 'backup',
    actions: [
      { type: 'cancelTimer', timer: 'adver' },
      { type: 'becomeBackup', from: 'master', why: '10.0.0.3 has equal priority 100 and a higher address' },
      { type: 'setTimer', timer: 'masterDown', ms: 3609.375 },
    ],
  },
  {
    rfc: '6.4.3 Equal priority and a lower sender address: stay master and re-announce (keepalived)',
    given: asMaster,
    when: advert(100, '10.0.0.1'),
    state: 'master',
    actions: [
      { type: 'sendAdvert', priority: 100 },
      { type: 'setTimer', timer: 'adver', ms: 1000 },
    ],
  },
  {
    rfc: 'keepalived: a master hearing a lower priority advert re-announces at once to end the split brain',
    given: asMaster,
    when: advert(50),
    state: 'master',
    actions: [
      { type: 'sendAdvert', priority: 100 },
      { type: 'setTimer', timer: 'adver', ms: 1000 },
    ],
  },
  {
    rfc: 'keepalived vrrp_lower_prio_no_advert: RFC behaviour, the lower advert is discarded silently',
    config: { lowerPrioNoAdvert: true },
    given: asMaster,
    when: advert(50),
    state: 'master',
    actions: [],
  },
  {
    rfc: 'keepalived vrrp_higher_prio_send_advert: one last advert before yielding to a higher priority',
    config: { higherPrioSendAdvert: true },
    given: asMaster,
    when: advert(150),
    state: 'backup',
    actions: [
      { type: 'sendAdvert', priority: 100 },
      { type: 'setTimer', timer: 'adver', ms: 1000 },
      { type: 'cancelTimer', timer: 'adver' },
      { type: 'becomeBackup', from: 'master', why: '10.0.0.9 has higher priority 150 than ours (100)' },
      { type: 'setTimer', timer: 'masterDown', ms: 3609.375 },
    ],
  },
  {
    rfc: 'keepalived: two address owners is a configuration error; the one hearing the other steps down to 254',
    config: { priority: 255 },
    given: [startup],
    when: advert(255, '10.0.0.1'),
    state: 'backup',
    actions: [
      { type: 'cancelTimer', timer: 'adver' },
      { type: 'becomeBackup', from: 'master', why: '10.0.0.1 has higher priority 255 than ours (254)' },
      { type: 'setTimer', timer: 'masterDown', ms: 3000 + 7.812 },
    ],
  },
  {
    rfc: 'An advert carrying our own address and priority (a loop) changes nothing',
    given: asMaster,
    when: advert(100, '10.0.0.2'),
    state: 'master',
    actions: [],
  },
  // Fault (keepalived): tracked interfaces and scripts
  {
    rfc: 'Fault from master: priority 0 first so a backup takes over in skew time, then the addresses go',
    given: asMaster,
    when: { type: 'trackFault', source: 'eth0', failed: true, why: 'eth0 link down' },
    state: 'fault',
    actions: [
      { type: 'cancelTimer', timer: 'adver' },
      { type: 'sendAdvert', priority: 0 },
      { type: 'enterFault', from: 'master', why: 'eth0 link down' },
    ],
  },
  {
    rfc: 'Fault from backup: stop listening',
    given: [startup],
    when: { type: 'trackFault', source: 'check-nginx', failed: true, why: 'check-nginx exited 1' },
    state: 'fault',
    actions: [
      { type: 'cancelTimer', timer: 'masterDown' },
      { type: 'enterFault', from: 'backup', why: 'check-nginx exited 1' },
    ],
  },
  {
    rfc: 'Fault holds while any tracked object is still failing',
    given: [
      startup,
      { type: 'trackFault', source: 'eth0', failed: true },
      { type: 'trackFault', source: 'eth1', failed: true, why: 'eth1 down' },
    ],
    when: { type: 'trackFault', source: 'eth0', failed: false },
    state: 'fault',
    actions: [],
  },
  {
    rfc: 'Fault cleared: back to backup with a full Master_Down_Interval',
    given: [startup, { type: 'trackFault', source: 'eth0', failed: true }],
    when: { type: 'trackFault', source: 'eth0', failed: false, why: 'eth0 link up' },
    state: 'backup',
    actions: [
      { type: 'becomeBackup', from: 'fault', why: 'eth0 link up' },
      { type: 'setTimer', timer: 'masterDown', ms: 3609.375 },
    ],
  },
  {
    rfc: 'Fault cleared on an address owner: master at once',
    config: { priority: 255 },
    given: [startup, { type: 'trackFault', source: 'eth0', failed: true }],
    when: { type: 'trackFault', source: 'eth0', failed: false, why: 'eth0 link up' },
    state: 'master',
    actions: [
      { type: 'sendAdvert', priority: 255 },
      { type: 'setTimer', timer: 'adver', ms: 1000 },
      { type: 'becomeMaster', from: 'fault', why: 'eth0 link up: address owner' },
    ],
  },
  {
    rfc: 'Adverts are ignored in fault',
    given: [startup, { type: 'trackFault', source: 'eth0', failed: true }],
    when: advert(0),
    state: 'fault',
    actions: [],
  },
  // Timers the agent may deliver late or twice
  {
    rfc: 'A timer that is not armed (cancelled, already handled) is ignored',
    given: [startup],
    when: adverTimer,
    state: 'backup',
    actions: [],
  },
  {
    rfc: 'A timer delivered within a millisecond of a fractional deadline (libuv rounds) counts as on time',
    given: [startup],
    when: { ...masterDown, at: 3608.5 },
    state: 'master',
    actions: [
      { type: 'sendAdvert', priority: 100 },
      { type: 'setTimer', timer: 'adver', ms: 1000 },
      { type: 'becomeMaster', from: 'backup', why: 'no master heard' },
    ],
  },
  {
    rfc: 'A timer delivered before its deadline is re-armed for the rest',
    given: [startup, { ...advert(150), at: 3000 }],
    when: { ...masterDown, at: 3609.375 },
    state: 'backup',
    actions: [{ type: 'setTimer', timer: 'masterDown', ms: 3000 }],
  },
];

describe('VrrpInstance: the RFC 5798 / 3768 section 6.4 state tables', () => {
  for (const row of rows) {
    it(row.rfc, () => {
      const { vi, clock } = run(row.config ?? {}, row.given);
      const { at, ...event } = row.when;
      if (at !== undefined) clock.set(at);
      const step = vi.step(event as VrrpEvent);
      expect(step.actions).toEqual(row.actions);
      expect(step.state).toBe(row.state);
      expect(vi.state).toBe(row.state);
    });
  }
});

describe('VrrpInstance timing', () => {
  it('computes skew and Master_Down_Interval as keepalived does (whole microseconds)', () => {
    expect(skewMs(2, 256 - 100, 1000)).toBe(609.375);
    expect(skewMs(2, 256 - 100, 3000)).toBe(609.375); // v2 skew does not depend on the interval
    expect(skewMs(3, 256 - 100, 100)).toBe(60.937);
    expect(skewMs(3, 256 - 254, 10)).toBe(0.078);
    expect(masterDownIntervalMs(3, 200, 100)).toBe(300 + 21.875);
    expect(masterDownIntervalMs(2, 1, 255_000)).toBe(765_000 + 996.093);
  });

  it('derives the effective priority from tracked weights within 1..254; an owner never moves', () => {
    expect(effectivePriority(100, 30)).toBe(130);
    expect(effectivePriority(100, -200)).toBe(1);
    expect(effectivePriority(200, 100)).toBe(254);
    expect(effectivePriority(255, -100)).toBe(255);
  });

  it('moves a running master-down deadline when the priority (and so the skew) changes', () => {
    const { vi, clock } = run({}, [startup]);
    expect(vi.timers.get('masterDown')).toBe(3609.375);
    clock.set(1000);
    const step = vi.step({ type: 'priorityChanged', trackedWeight: 50, why: 'check-db weight +50' });
    expect(vi.effectivePriority).toBe(150);
    expect(step.actions).toHaveLength(1);
    expect(step.actions[0]).toMatchObject({ type: 'setTimer', timer: 'masterDown' });
    expect(step.actions[0]?.type === 'setTimer' && step.actions[0].ms).toBeCloseTo(3414.062 - 1000, 6);
    expect(vi.timers.get('masterDown')).toBeCloseTo(3414.062, 6);
    expect(step.why).toBe('check-db weight +50: priority 100 -> 150');
  });

  it('a master whose priority drops advertises the new priority on its next advert', () => {
    const { vi, clock } = run({}, asMaster);
    expect(vi.step({ type: 'priorityChanged', trackedWeight: -60 }).actions).toEqual([]);
    clock.set(4609.375);
    expect(vi.step(adverTimer).actions[0]).toEqual({ type: 'sendAdvert', priority: 40 });
  });

  it('a sync group member waits for its group instead of taking over alone', () => {
    const { vi, clock } = run({ inSyncGroup: true }, [startup]);
    clock.set(3609.375);
    const wait = vi.step(masterDown);
    expect(wait.state).toBe('backup');
    expect(vi.wantsMaster).toBe(true);
    expect(wait.actions).toEqual([{ type: 'setTimer', timer: 'masterDown', ms: 3609.375 }]);
    const go = vi.step({ type: 'syncGroup', to: 'master', why: 'sync group: every member is master or wants to be' });
    expect(go.transition).toEqual({ from: 'backup', to: 'master', why: 'sync group: every member is master or wants to be' });
    expect(go.actions.map((a) => a.type)).toEqual(['cancelTimer', 'sendAdvert', 'setTimer', 'becomeMaster']);
    const back = vi.step({ type: 'syncGroup', to: 'backup', why: 'sync group: vi2 is fault' });
    expect(back.actions.map((a) => a.type)).toEqual(['cancelTimer', 'becomeBackup', 'setTimer']);
  });

  it('explains every step, including the ones that change nothing', () => {
    const { vi } = run({}, [startup]);
    expect(vi.step(advert(99, '10.0.0.7')).why).toBe('advert from 10.0.0.7 priority 99 lower than ours (100): discarded to preempt');
    expect(vi.step(advert(150, '10.0.0.7')).why).toBe('advert from 10.0.0.7 priority 150: master alive');
    expect(vi.masterAddress).toBe('10.0.0.7');
  });
});

describe('VrrpInstance configuration', () => {
  const bad: [Partial<VrrpInstanceConfig>, RegExp][] = [
    [{ vrid: 0 }, /^vi1\.vrid: must be an integer 1\.\.255, got 0/],
    [{ priority: 0 }, /^vi1\.priority: must be an integer 1\.\.255/],
    [{ version: 2, advertIntervalMs: 100 }, /^vi1\.advertIntervalMs: VRRPv2 carries whole seconds/],
    [{ advertIntervalMs: 5 }, /^vi1\.advertIntervalMs: VRRPv3 carries centiseconds/],
    [{ version: 2, family: 'ipv6', primaryAddress: 'fe80::1' }, /^vi1\.version: VRRPv2 is IPv4 only/],
    [{ priority: 255, preempt: false }, /^vi1\.preempt: an address owner \(priority 255\) always preempts/],
    [{ preempt: false, preemptDelayMs: 1000 }, /^vi1\.preemptDelayMs: has no meaning with preempt off/],
    [{ initialState: 'master', preemptDelayMs: 1000 }, /^vi1\.initialState:/],
    [{ preemptDelayMs: -1 }, /^vi1\.preemptDelayMs: must be a duration/],
    [{ primaryAddress: 'fe80::1' }, /^vi1\.primaryAddress: "fe80::1" is not an IPv4 address/],
  ];
  for (const [patch, message] of bad) {
    it(`refuses ${JSON.stringify(patch)}`, () => {
      expect(() => new VrrpInstance({ ...base, ...patch }, new FakeClock())).toThrow(message);
    });
  }
});
