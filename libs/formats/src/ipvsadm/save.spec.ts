import type { IpvsDestination, IpvsService } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { formatIpvsadmCommand } from './command.js';
import { IpvsadmFormatError } from './errors.js';
import type { IpvsadmOperation } from './operation.js';
import { parseIpvsadmCommands, parseIpvsadmRestore } from './restore.js';
import { formatIpvsadmSave } from './save.js';

const noFlags = { onePacket: false, shFallback: false, shPort: false, mhFallback: false, mhPort: false };
const dest = (over: Partial<IpvsDestination> = {}): IpvsDestination => ({
  address: '10.0.1.1', port: 80, forward: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0,
  tunnelType: 'ipip', tunnelPort: 0, tunnelFlags: [], ...over,
});
const service = (over: Partial<IpvsService> = {}): IpvsService => ({
  key: { kind: 'addr', protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'wlc', flags: noFlags, persistence: 0,
  destinations: [], ...over,
});

describe('formatIpvsadmSave', () => {
  it('prints what ipvsadm-save prints: no thresholds, local servers as -g, a netmask only with persistence', () => {
    const table = {
      services: [
        service({
          persistencePrefix: 24,
          persistenceEngine: 'sip',
          destinations: [dest({ forward: 'local', upperThreshold: 10, lowerThreshold: 5 }), dest({ address: '10.0.1.2', forward: 'masq', weight: 0 })],
        }),
      ],
    };
    expect(formatIpvsadmSave(table)).toBe(
      '-A -t 10.0.0.1:80 -s wlc --pe sip\n' +
        '-a -t 10.0.0.1:80 -r 10.0.1.1:80 -g -w 1\n' +
        '-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 0\n',
    );
  });

  it('withThresholds adds -x/-y so that nothing is lost, and reads back the same table', () => {
    const table = { services: [service({ destinations: [dest({ upperThreshold: 10, lowerThreshold: 5 }), dest({ address: '10.0.1.2', upperThreshold: 3 })] })] };
    const text = formatIpvsadmSave(table, { withThresholds: true });
    expect(text).toBe(
      '-A -t 10.0.0.1:80 -s wlc\n' +
        '-a -t 10.0.0.1:80 -r 10.0.1.1:80 -g -w 1 -x 10 -y 5\n' +
        '-a -t 10.0.0.1:80 -r 10.0.1.2:80 -g -w 1 -x 3\n',
    );
    expect(parseIpvsadmRestore(text).table).toEqual(table);
  });

  it('prints flag bits by the scheduler that reads them, flag-N for the others', () => {
    const s = (scheduler: IpvsService['scheduler']) => service({ scheduler, flags: { ...noFlags, shFallback: true, shPort: true } });
    expect(formatIpvsadmSave({ services: [s('sh')] })).toBe('-A -t 10.0.0.1:80 -s sh -b sh-fallback,sh-port\n');
    expect(formatIpvsadmSave({ services: [s('mh')] })).toBe('-A -t 10.0.0.1:80 -s mh -b mh-fallback,mh-port\n');
    expect(formatIpvsadmSave({ services: [s('wrr')] })).toBe('-A -t 10.0.0.1:80 -s wrr -b flag-1,flag-2\n');
  });

  it('refuses tunnel flags ipvsadm has no option for, naming the real server', () => {
    const both = { services: [service({ destinations: [dest({ forward: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: ['csum', 'remcsum'] })] })] };
    expect(() => formatIpvsadmSave(both)).toThrow(IpvsadmFormatError);
    expect(() => formatIpvsadmSave(both)).toThrow(/TCP 10\.0\.0\.1:80 -> 10\.0\.1\.1: tunnel flags csum and remcsum/);
    const greRemote = { services: [service({ destinations: [dest({ forward: 'tunnel', tunnelType: 'gre', tunnelFlags: ['remcsum'] })] })] };
    expect(() => formatIpvsadmSave(greRemote)).toThrow(/GRE tunnel has no remote checksum/);
  });

  it('prints addresses canonically whatever their spelling in the table', () => {
    const table = { services: [service({ key: { kind: 'addr', protocol: 'udp', address: '2001:DB8:0::1', port: 53 }, persistence: 30, persistencePrefix: 128 })] };
    expect(formatIpvsadmSave(table)).toBe('-A -u [2001:db8::1]:53 -s wlc -p 30\n');
  });

  it('an empty table prints nothing', () => {
    expect(formatIpvsadmSave({ services: [] })).toBe('');
  });
});

describe('formatIpvsadmCommand', () => {
  const key = { kind: 'addr', protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
  const cases: [IpvsadmOperation, string][] = [
    [{ op: 'addService', service: { key, scheduler: 'wrr', flags: noFlags, persistence: 50, persistencePrefix: 24, destinations: [] } },
      'ipvsadm -A -t 10.0.0.1:80 -s wrr -p 50 -M 255.255.255.0'],
    [{ op: 'editService', service: { key: { kind: 'fwmark', fwmark: 3000000000, family: 'inet6' }, scheduler: 'mh', flags: { ...noFlags, mhPort: true }, persistence: 0, destinations: [] } },
      'ipvsadm -E -f 3000000000 -6 -s mh -b mh-port'],
    [{ op: 'deleteService', key }, 'ipvsadm -D -t 10.0.0.1:80'],
    [{ op: 'addDestination', key, destination: dest({ forward: 'masq', port: 8080, weight: 3, upperThreshold: 100, lowerThreshold: 10 }) },
      'ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 3 -x 100 -y 10'],
    [{ op: 'editDestination', key, destination: dest({ forward: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: ['remcsum'] }) },
      'ipvsadm -e -t 10.0.0.1:80 -r 10.0.1.1:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum'],
    [{ op: 'deleteDestination', key: { kind: 'addr', protocol: 'sctp', address: '2001:db8::1', port: 3868 }, destination: { address: '2001:db8::2', port: 3868 } },
      'ipvsadm -d --sctp-service [2001:db8::1]:3868 -r [2001:db8::2]:3868'],
    [{ op: 'flush' }, 'ipvsadm -C'],
    [{ op: 'zero' }, 'ipvsadm -Z'],
    [{ op: 'zero', key }, 'ipvsadm -Z -t 10.0.0.1:80'],
    [{ op: 'setTimeouts', timeouts: { tcp: 900, tcpFin: 120, udp: 300 } }, 'ipvsadm --set 900 120 300'],
  ];

  it.each(cases)('%j', (op, text) => {
    expect(formatIpvsadmCommand(op)).toBe(text);
  });

  it.each(cases)('reads back as the same operation: %j', (op, text) => {
    const back = parseIpvsadmCommands(text);
    expect(back.map((o) => o.operation)).toEqual([op]);
  });
});
