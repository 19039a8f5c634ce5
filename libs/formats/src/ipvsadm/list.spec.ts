import type { IpvsDestination, IpvsService, IpvsStats } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { IpvsadmFormatError } from './errors.js';
import { formatIpvsadmList, formatLargeNumber, listedTable, type ListedDestination, type ListedService, type ListedTable } from './list.js';

// Expected text follows ipvsadm 1.31's printf formats (the captured fixtures cover zero
// counters; these cover real numbers, K/M/G/T and --exact).

const stats = (n: Partial<IpvsStats>): IpvsStats => ({
  conns: 0n, inPackets: 0n, outPackets: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n, ...n,
});
const noFlags = { onePacket: false, shFallback: false, shPort: false, mhFallback: false, mhPort: false };

const webService: IpvsService = {
  key: { kind: 'addr', protocol: 'tcp', address: '10.0.0.1', port: 80 },
  scheduler: 'wrr',
  flags: noFlags,
  persistence: 0,
  destinations: [],
};
const realServer: IpvsDestination = {
  address: '10.0.1.2', port: 8080, forward: 'masq', weight: 300, upperThreshold: 0, lowerThreshold: 0, tunnelType: 'ipip', tunnelPort: 0, tunnelFlags: [],
};
const web: ListedService = {
  service: webService,
  stats: stats({ conns: 123456789n, inPackets: 987654321n, outPackets: 12n, inBytes: 98765432109n, outBytes: 123456789012345n, cps: 4000n, inPps: 123456789n, outPps: 3n, inBps: 1_500_000_000_000_000n, outBps: 99_999_999n }),
  destinations: [
    {
      destination: realServer,
      activeConns: 1234567,
      inactiveConns: 42,
      persistentConns: 7,
      stats: stats({ conns: 5n, inPackets: 100000000n, cps: 123456789n, inPps: 2n, outPps: 1n, inBps: 250000000n, outBps: 7n }),
    },
  ],
};
const withServer = (over: Partial<IpvsDestination>): ListedTable => ({
  services: [{ ...web, destinations: [{ ...(web.destinations[0] as ListedDestination), destination: { ...realServer, ...over } }] }],
});
const table: ListedTable = { services: [web] };

describe('formatLargeNumber (print_largenum)', () => {
  it.each([
    [0n, '        0'],
    [99999999n, ' 99999999'],
    [100000000n, '  100000K'],
    [999999999n, '  999999K'],
    [1000000000n, '    1000M'],
    [99999999999n, '   99999M'],
    [100000000000n, '     100G'],
    [99999999999999n, '   99999G'],
    [100000000000000n, '     100T'],
    [18446744073709551615n, '18446744T'],
  ])('%s -> %j', (n, text) => {
    expect(formatLargeNumber(n)).toBe(text);
  });

  it('--exact: 9 columns, or one more than the digits when longer', () => {
    expect(formatLargeNumber(12n, true)).toBe('       12');
    expect(formatLargeNumber(12345678n, true)).toBe(' 12345678');
    expect(formatLargeNumber(123456789n, true)).toBe(' 123456789');
    expect(formatLargeNumber(18446744073709551615n, true)).toBe(' 18446744073709551615');
  });
});

describe('formatIpvsadmList', () => {
  it('the default view has connection counts, left-aligned as ipvsadm pads them', () => {
    expect(formatIpvsadmList(table)).toBe(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  10.0.0.1:80 wrr\n' +
        '  -> 10.0.1.2:8080                Masq    300    1234567    42        \n',
    );
  });

  it('--stats shortens large counters with K/M/G/T', () => {
    expect(formatIpvsadmList(table, { view: 'stats' })).toBe(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n' +
        '  -> RemoteAddress:Port\n' +
        'TCP  10.0.0.1:80                   123456K  987654K       12   98765M     123T\n' +
        '  -> 10.0.1.2:8080                       5  100000K        0        0        0\n',
    );
  });

  it('--stats --exact prints every digit, widening the column', () => {
    expect(formatIpvsadmList(table, { view: 'stats', exact: true }).split('\n')[3]).toBe(
      'TCP  10.0.0.1:80                  123456789 987654321       12 98765432109 123456789012345',
    );
  });

  it('--rate: services shortened, destinations print connection and packet rates in full', () => {
    expect(formatIpvsadmList(table, { view: 'rate' })).toBe(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n' +
        '  -> RemoteAddress:Port\n' +
        'TCP  10.0.0.1:80                      4000  123456K        3    1500T 99999999\n' +
        '  -> 10.0.1.2:8080                123456789        2        1  250000K        7\n',
    );
  });

  it('--persistent-conn and --thresholds', () => {
    const withThresholds = withServer({ upperThreshold: 500, lowerThreshold: 250 });
    expect(formatIpvsadmList(withThresholds, { view: 'persistent-conn' }).split('\n').slice(1, 5)).toEqual([
      'Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn ',
      '  -> RemoteAddress:Port',
      'TCP  10.0.0.1:80 wrr',
      '  -> 10.0.1.2:8080                300       7           1234567    42        ',
    ]);
    expect(formatIpvsadmList(withThresholds, { view: 'thresholds' }).split('\n')[4]).toBe(
      '  -> 10.0.1.2:8080                500        250        1234567    42        ',
    );
  });

  it('a single service (ipvsadm -Ln -t ...) has no version line', () => {
    expect(formatIpvsadmList(table, { service: webService.key })).toBe(
      'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  10.0.0.1:80 wrr\n' +
        '  -> 10.0.1.2:8080                Masq    300    1234567    42        \n',
    );
    expect(() => formatIpvsadmList(table, { service: { kind: 'fwmark', fwmark: 1, family: 'inet' } })).toThrow(IpvsadmFormatError);
  });

  it('takes the version and table size from the caller, and shows local real servers as Local', () => {
    const local = withServer({ forward: 'local' });
    const text = formatIpvsadmList(local, { ipvsVersion: '1.2.1', connTableSize: 1048576 });
    expect(text.split('\n')[0]).toBe('IP Virtual Server version 1.2.1 (size=1048576)');
    expect(text.split('\n')[4]).toMatch(/^ {2}-> 10\.0\.1\.2:8080 +Local {3}300/);
  });

  it('lists a plain table with zero counters, the same as its listing form', () => {
    const plain = { services: [{ ...webService, destinations: [realServer] }] };
    const text = formatIpvsadmList(plain);
    expect(text).toBe(formatIpvsadmList(listedTable(plain)));
    expect(text.split('\n')[4]).toBe('  -> 10.0.1.2:8080                Masq    300    0          0         ');
  });
});
