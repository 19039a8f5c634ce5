import type { IpvsDestination, IpvsService } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { IpvsadmRestoreError, type IpvsadmIssue } from './errors.js';
import type { IpvsadmOperation, LocatedOperation } from './operation.js';
import { parseIpvsadmCommands, parseIpvsadmRestore } from './restore.js';

// Accept/refuse verdicts below were checked against Debian's ipvsadm 1.31 binary (its option
// parser run with the kernel calls stubbed out), except where a comment says we differ.

const one = (line: string): IpvsadmOperation => {
  const ops = parseIpvsadmCommands(line);
  expect(ops).toHaveLength(1);
  return (ops[0] as LocatedOperation).operation;
};

const issuesOf = (text: string): IpvsadmIssue[] => {
  try {
    parseIpvsadmRestore(text);
  } catch (err) {
    expect(err).toBeInstanceOf(IpvsadmRestoreError);
    return [...(err as IpvsadmRestoreError).issues];
  }
  throw new Error('expected the input to be refused');
};

const issue = (line: string) => {
  const all = issuesOf(line);
  expect(all).toHaveLength(1);
  return all[0] as IpvsadmIssue;
};

const dest = (over: Partial<IpvsDestination>): IpvsDestination => ({
  address: '10.0.0.2', port: 80, forward: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0,
  tunnelType: 'ipip', tunnelPort: 0, tunnelFlags: [], ...over,
});
const noFlags = { onePacket: false, shFallback: false, shPort: false, mhFallback: false, mhPort: false };
const tcp80 = { kind: 'addr', protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;

describe('service options', () => {
  it('reads -A with the defaults ipvsadm fills in (wlc, not persistent)', () => {
    expect(one('-A -t 10.0.0.1:80')).toEqual({
      op: 'addService',
      service: { key: tcp80, scheduler: 'wlc', flags: noFlags, persistence: 0, destinations: [] },
    });
  });

  it.each([
    ['-A -t 10.0.0.1:80 -s wrr -p 50 -M 255.255.255.0', { scheduler: 'wrr', persistence: 50, persistencePrefix: 24 }],
    ['-A -t 10.0.0.1:80 -p', { persistence: 360 }],
    ['-A -t 10.0.0.1:80 -p -M 255.255.0.0', { persistence: 360, persistencePrefix: 16 }],
    ['-A -t 10.0.0.1:80 -p50', { persistence: 50 }],
    ['-A -t 10.0.0.1:80 --persistent=50', { persistence: 50 }],
    ['-A -t 10.0.0.1:80 --persistent 2678400', { persistence: 2678400 }],
    ['-A -t 10.0.0.1:80 -p 30 -M 255.255.255.255', { persistence: 30 }],
    ['-A -t 10.0.0.1:80 -M 255.255.0.0', { persistencePrefix: 16 }],
    ['-A -t 10.0.0.1:80 -p 30 --pe sip', { persistence: 30, persistenceEngine: 'sip' }],
    ['-A --tcp-service 10.0.0.1:80 --scheduler rr', { scheduler: 'rr' }],
    ['-A --tcp-service=10.0.0.1:80 --scheduler=mh', { scheduler: 'mh' }],
    ['-At 10.0.0.1:80 -s lblcr', { scheduler: 'lblcr' }],
    ['-At10.0.0.1:80 -sovf', { scheduler: 'ovf' }],
    ['ipvsadm -A -t 10.0.0.1:80 -s fo', { scheduler: 'fo' }],
  ])('%s', (line, expected) => {
    const op = one(line);
    expect(op.op).toBe('addService');
    expect(op).toMatchObject({ service: { key: tcp80, scheduler: 'wlc', persistence: 0, flags: noFlags, ...expected } });
    if (!('persistencePrefix' in expected)) expect(op).not.toHaveProperty('service.persistencePrefix');
  });

  it('reads UDP, SCTP, a zero port with persistence and a bare IPv4 address', () => {
    expect(one('-A -u 10.0.0.1:53')).toMatchObject({ service: { key: { protocol: 'udp', port: 53 } } });
    expect(one('-A --sctp-service 10.0.0.1:3868')).toMatchObject({ service: { key: { protocol: 'sctp', port: 3868 } } });
    expect(one('-A -t 10.0.0.1:0 -p 30')).toMatchObject({ service: { key: { port: 0 }, persistence: 30 } });
    expect(one('-A -t 10.0.0.1 -p')).toMatchObject({ service: { key: { port: 0 }, persistence: 360 } });
    expect(one('-A -t 10.0.0.1:080')).toMatchObject({ service: { key: { port: 80 } } });
  });

  it('reads IPv6 services in canonical form, with an integer netmask', () => {
    expect(one('-A -t [2001:DB8:0:0::1]:80 -p 10 -M 64')).toMatchObject({
      service: { key: { kind: 'addr', protocol: 'tcp', address: '2001:db8::1', port: 80 }, persistence: 10, persistencePrefix: 64 },
    });
    expect(one('-A -t 2001:db8::1 -p')).toMatchObject({ service: { key: { address: '2001:db8::1', port: 0 } } });
    expect(one('-A -t [::ffff:192.168.0.1]:80')).toMatchObject({ service: { key: { address: '::ffff:192.168.0.1' } } });
  });

  it('reads firewall marks, -6 after -f, and the negative marks ipvsadm 1.31 prints for marks above 2^31-1', () => {
    expect(one('-A -f 1')).toMatchObject({ service: { key: { kind: 'fwmark', fwmark: 1, family: 'inet' } } });
    expect(one('-A --fwmark-service 9 -6 -p 60 -M 48')).toMatchObject({
      service: { key: { kind: 'fwmark', fwmark: 9, family: 'inet6' }, persistence: 60, persistencePrefix: 48 },
    });
    expect(one('-A -f 4294967295')).toMatchObject({ service: { key: { fwmark: 4294967295 } } });
    // ipvsadm itself refuses `-f -1`; reading it lets its own save output round-trip.
    expect(one('-A -f -1294967296')).toMatchObject({ service: { key: { fwmark: 3000000000 } } });
  });

  it('maps scheduler flags onto the model for sh, mh and the generic flag-1/flag-2 bits', () => {
    expect(one('-A -t 10.0.0.1:80 -s sh -b sh-fallback,sh-port')).toMatchObject({ service: { flags: { shFallback: true, shPort: true } } });
    expect(one('-A -t 10.0.0.1:80 -s mh -b mh-port')).toMatchObject({ service: { flags: { mhPort: true, mhFallback: false } } });
    expect(one('-A -t 10.0.0.1:80 -s mh --sched-flags flag-1')).toMatchObject({ service: { flags: { mhFallback: true } } });
    expect(one('-A -t 10.0.0.1:80 -b flag-2')).toMatchObject({ service: { scheduler: 'wlc', flags: { shPort: true } } });
  });

  it('reads one-packet scheduling on UDP and firewall-mark services', () => {
    expect(one('-A -u 10.0.0.1:53 -o')).toMatchObject({ service: { flags: { onePacket: true } } });
    expect(one('-A -f 5 --ops')).toMatchObject({ service: { flags: { onePacket: true } } });
  });

  it('reads -E, -D, -C, -Z and --set', () => {
    expect(one('-E -t 10.0.0.1:80 -s rr')).toMatchObject({ op: 'editService', service: { key: tcp80, scheduler: 'rr' } });
    expect(one('--delete-service -t 10.0.0.1:80')).toEqual({ op: 'deleteService', key: tcp80 });
    expect(one('-C')).toEqual({ op: 'flush' });
    expect(one('--clear')).toEqual({ op: 'flush' });
    expect(one('-Z')).toEqual({ op: 'zero' });
    expect(one('-Z -t 10.0.0.1:80')).toEqual({ op: 'zero', key: tcp80 });
    expect(one('--set 900 120 300')).toEqual({ op: 'setTimeouts', timeouts: { tcp: 900, tcpFin: 120, udp: 300 } });
  });
});

describe('real server options', () => {
  it('reads -a with ipvsadm defaults: direct routing, weight 1, the service port', () => {
    expect(one('-a -t 10.0.0.1:80 -r 10.0.0.2')).toEqual({ op: 'addDestination', key: tcp80, destination: dest({}) });
  });

  it.each([
    ['-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 0', { port: 8080, forward: 'masq', weight: 0 }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -g', { port: 80, forward: 'route' }], // DR keeps the service port
    ['-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -i', { port: 80, forward: 'tunnel' }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -w 65535 -x 100 -y 50', { weight: 65535, upperThreshold: 100, lowerThreshold: 50 }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -x 2147483647', { upperThreshold: 2147483647 }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -w3', { weight: 3 }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -mw 3', { forward: 'masq', weight: 3 }],
    ['--add-server --tcp-service 10.0.0.1:80 --real-server 10.0.0.2:81 --masquerading --weight 2 --u-threshold 10 --l-threshold 5',
      { port: 81, forward: 'masq', weight: 2, upperThreshold: 10, lowerThreshold: 5 }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 --gatewaying', { forward: 'route' }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 --ipip', { forward: 'tunnel' }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type ipip', { forward: 'tunnel', tunnelType: 'ipip' }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080', { forward: 'tunnel', tunnelType: 'gue', tunnelPort: 6080 }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-nocsum', { forward: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: [] }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-csum', { forward: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: ['csum'] }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-remcsum', { forward: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelFlags: ['remcsum'] }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gre --tun-csum', { forward: 'tunnel', tunnelType: 'gre', tunnelFlags: ['csum'] }],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type=gre', { forward: 'tunnel', tunnelType: 'gre', tunnelFlags: [] }],
  ])('%s', (line, expected) => {
    expect(one(line)).toEqual({ op: 'addDestination', key: tcp80, destination: dest(expected as Partial<IpvsDestination>) });
  });

  it('keeps the given port of firewall-mark real servers (0 when none)', () => {
    expect(one('-a -f 5 -r 10.0.0.2')).toMatchObject({ destination: { port: 0 } });
    expect(one('-a -f 5 -r 10.0.0.2:8080 -g')).toMatchObject({ destination: { port: 8080 } });
  });

  it('reads IPv6 real servers, and an IPv6 tunnel server behind an IPv4 service', () => {
    expect(one('-a -t [2001:db8::1]:80 -r [2001:db8::0:2]:80 -m')).toMatchObject({ destination: { address: '2001:db8::2', forward: 'masq' } });
    expect(one('-a -t [2001:db8::1]:80 -r 2001:db8::2')).toMatchObject({ destination: { address: '2001:db8::2', port: 80 } });
    expect(one('-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -i')).toMatchObject({ destination: { address: '2001:db8::2', forward: 'tunnel' } });
  });

  it('reads -e and -d (which takes the service port when none is given)', () => {
    expect(one('-e -t 10.0.0.1:80 -r 10.0.0.2 -w 5')).toEqual({ op: 'editDestination', key: tcp80, destination: dest({ weight: 5 }) });
    expect(one('-d -t 10.0.0.1:80 -r 10.0.0.2')).toEqual({ op: 'deleteDestination', key: tcp80, destination: { address: '10.0.0.2', port: 80 } });
    expect(one('--delete-server -t 10.0.0.1:80 -r 10.0.0.2:81')).toMatchObject({ destination: { port: 81 } });
  });
});

describe('file layout', () => {
  it('skips blank lines and comments, accepts CRLF, a leading ipvsadm and trailing comments', () => {
    const text = '# saved by hand\r\n\r\n  # indented comment\n\t-A -t 10.0.0.1:80 -s rr   # web\r\nipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2\n\n';
    const r = parseIpvsadmRestore(text);
    expect(r.operations.map((o) => [o.operation.op, o.at.line, o.at.column])).toEqual([
      ['addService', 4, 2],
      ['addDestination', 5, 9],
    ]);
    expect(r.table.services).toHaveLength(1);
  });

  it('an empty file is an empty table', () => {
    expect(parseIpvsadmRestore('').table).toEqual({ services: [] });
    expect(parseIpvsadmRestore('# nothing\n\n').operations).toEqual([]);
  });
});

describe('syntax errors name the line, column and token', () => {
  it.each([
    ['-A -t foo.example:80', 'foo.example:80', /host names are not resolved/],
    ['-A -t 10.0.0.1:http', '10.0.0.1:http', /service names are not resolved, use a port number instead of 'http'/],
    ['-A -t 10.0.0.1:65536', '10.0.0.1:65536', /port '65536' is not a decimal number from 0 to 65535/],
    ['-A -t 10.0.0.1:+80', '10.0.0.1:+80', /port '\+80'/], // ipvsadm takes +80 (strtol); digits only here
    ['-A -t 10.0.0.1:', '10.0.0.1:', /port ''/],
    ['-A -t 80', '80', /expected address\[:port\]/],
    ['-A -t 10.0.0.010:80', '10.0.0.010:80', /not a dotted-quad IPv4 address/], // inet_aton would read octal
    ['-A -t [2001:db8::1]', '[2001:db8::1]', /must be followed by ':port'/],
    ['-A -t [10.0.0.1]:80', '[10.0.0.1]:80', /is not an IPv6 address/],
    ['-A -t 10.0.0.1:80 -s', '', /option '-s' needs a value/],
    ['-A -t 10.0.0.1:80 -s foo', 'foo', /scheduler 'foo' not found/],
    ['-A -t 10.0.0.1:80 -w 3', '-w', /illegal 'weight' option with the 'add-service' command/],
    ['-A -t 10.0.0.1:80 -r 10.0.0.2', '-r', /illegal 'real-server' option with the 'add-service' command/],
    ['-A -t 10.0.0.1:80 extra', 'extra', /unexpected argument 'extra'/],
    ['-A -t 10.0.0.1:80 -s wrr -s rr', '-s', /multiple 'scheduler' options specified/],
    ['-A -t 10.0.0.1:80 -t 10.0.0.2:80', '-t', /multiple 'service-address' options specified/],
    ['-A -t 10.0.0.1', '10.0.0.1', /zero port specified for a non-persistent service/],
    ['-A -t 10.0.0.1:80 -p 0', '0', /invalid persistence timeout '0'/],
    ['-A -t 10.0.0.1:80 -p 2678401', '2678401', /invalid persistence timeout/],
    ['-A -t 10.0.0.1:80 -p -M 255.0.255.0', '255.0.255.0', /contiguous dotted mask/],
    ['-A -t [2001:db8::1]:80 -p -M 129', '129', /IPv6 persistence netmask '129'/],
    ['-A -t 10.0.0.1:80 -p --pe http', 'http', /persistence engine 'http' not found/],
    ['-A -t 10.0.0.1:53 -o', '-o', /only for UDP virtual services/],
    ['-A -t 10.0.0.1:80 -s wrr -b sh-port', 'sh-port', /incompatible scheduler flag 'sh-port' for scheduler 'wrr'/],
    ['-A -t 10.0.0.1:80 -s mh -b bogus', 'bogus', /invalid scheduler flag 'bogus'/],
    ['-A -t 10.0.0.1:80 -b flag-3', 'flag-3', /flag-3' is not supported/],
    ['-A -f 0', '0', /invalid fwmark value '0'/],
    ['-A -f 4294967296', '4294967296', /invalid fwmark value/],
    ['-A -6 -f 5', '-6', /-6 used before -f/],
    ['-A', '-A', /the 'add-service' command needs the 'service-address' option/],
    ['-D -t 10.0.0.1:80 -s rr', '-s', /illegal 'scheduler' option with the 'delete-service' command/],
    ['-C -t 10.0.0.1:80', '-t', /illegal 'service-address' option with the 'flush' command/],
    ['--set 10 20', '', /--set needs exactly 3 timeout values/],
    ['--set 10 20 x', 'x', /invalid timeout value 'x'/],
    ['-a -t 10.0.0.1:80', '-a', /needs the 'real-server' option/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -w 70000', '70000', /illegal weight '70000'/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -w -1', '-1', /illegal weight '-1'/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -x 2147483648', '2147483648', /illegal upper threshold/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -y z', 'z', /illegal lower threshold/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -g -m', '-m', /multiple 'forwarding-method' options specified/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -n', '-n', /illegal 'numeric' option with the 'add-server' command/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue', 'gue', /the 'gue' tunnel type needs the 'tun-port' option/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 1 --tun-csum --tun-remcsum', '--tun-remcsum', /conflicts with the 'tun-csum' option/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gre --tun-remcsum', '--tun-remcsum', /illegal 'tun-remcsum' option with the 'gre' tunnel type/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gre --tun-port 5', '--tun-port', /illegal 'tun-port' option with the 'gre' tunnel type/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type ipip --tun-nocsum', '--tun-nocsum', /illegal 'tun-nocsum' option with the 'ipip' tunnel type/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type vxlan', 'vxlan', /illegal tunnel type 'vxlan'/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 0', '0', /illegal tunnel port '0'/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -m --tun-type gre', '--tun-type', /tunnel options conflict with the forwarding method/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 --tun-nocsum', '--tun-nocsum', /tunnel options conflict/],
    ['-a -t 10.0.0.1:80 -r [2001:db8::2]:80', '[2001:db8::2]:80', /allowed only for tunneling \(-i\) servers/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -s rr', '-s', /illegal 'scheduler' option with the 'add-server' command/],
    ['-d -t 10.0.0.1:80 -r 10.0.0.2 -w 1', '-w', /illegal 'weight' option with the 'delete-server' command/],
    ['-L -n', '-L', /the 'list' command \(-L\) does not change the table/],
    ['-S', '-S', /the 'save' command/],
    ['--start-daemon master', '--start-daemon', /the 'start-daemon' command/],
    ['-t 10.0.0.1:80', '-t', /no command/],
    ['-A -C', '-C', /multiple commands specified/],
    ['-Q', '-Q', /unknown option '-Q'/],
    ['-A -t 10.0.0.1:80 --bogus', '--bogus', /unknown option '--bogus'/],
    ['-A -t 10.0.0.1:80 --ops=1', '--ops', /takes no value/],
    ['-A -t 10.0.0.1:80 -- -s rr', '-s', /unexpected argument '-s'/],
  ])('%s', (line, token, message) => {
    // The column is where the token sits (past the end of the line for a missing value).
    const column = token === '' ? line.length + 1 : line.lastIndexOf(token) + 1;
    const i = issuesOf(line)[0] as IpvsadmIssue;
    expect(i).toMatchObject({ line: 1, column, token });
    expect(i.message).toMatch(message);
  });
});

describe('a file with errors is refused whole', () => {
  it('reports every bad line with its number, and builds nothing', () => {
    const text = [
      '-A -t 10.0.0.1:80 -s rr',
      '-a -t 10.0.0.1:80 -r 10.0.0.2 -w 70000',
      '# comment',
      '-a -t 10.0.0.1:80 -r 10.0.0.3',
      '-A -t web.example:80',
      '-A -u 10.0.0.1:53 -s nope -b sh-port',
    ].join('\n');
    const all = issuesOf(text);
    expect(all.map((i) => [i.line, i.token])).toEqual([
      [2, '70000'],
      [5, 'web.example:80'],
      [6, 'nope'],
    ]);
  });

  it('the error message lists every issue', () => {
    expect(() => parseIpvsadmRestore('-A -t 1.2.3.4:80 -s x\n-A -t 1.2.3.4:81 -s y')).toThrow(
      /2 errors\n {2}line 1, column 21 at 'x': scheduler 'x' not found.*\n {2}line 2, column 21 at 'y'/,
    );
  });
});

describe('replaying the commands like the kernel', () => {
  it('builds the table in order: add, edit (all settings replaced), delete', () => {
    const r = parseIpvsadmRestore([
      '-A -t 10.0.0.1:80 -s wrr -p 50',
      '-a -t 10.0.0.1:80 -r 10.0.0.2 -w 3 -x 10',
      '-a -t 10.0.0.1:80 -r 10.0.0.3 -m',
      '-E -t 10.0.0.1:80 -s rr',
      '-e -t 10.0.0.1:80 -r 10.0.0.2 -m',
      '-d -t 10.0.0.1:80 -r 10.0.0.3',
      '-A -u 10.0.0.1:53',
      '-D -u 10.0.0.1:53',
    ].join('\n'));
    const expected: IpvsService = {
      key: tcp80, scheduler: 'rr', flags: noFlags, persistence: 0,
      destinations: [dest({ forward: 'masq', weight: 1, port: 80 })],
    };
    expect(r.table).toEqual({ services: [expected] });
  });

  it('-C clears what came before', () => {
    const r = parseIpvsadmRestore('-A -t 10.0.0.1:80\n-C\n-A -t 10.0.0.2:80\n');
    expect(r.table.services.map((s) => s.key)).toEqual([{ ...tcp80, address: '10.0.0.2' }]);
  });

  it('treats differently written IPv6 addresses as the same service', () => {
    expect(issue('-A -t [2001:db8::1]:80\n-A -t [2001:DB8:0:0:0:0:0:1]:80')).toMatchObject({ line: 2, message: expect.stringMatching(/^Service already exists/) });
  });

  it.each([
    ['-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80 -s rr', 2, 7, 'Service already exists: TCP 10.0.0.1:80 (added on line 1)'],
    ['-E -t 10.0.0.1:80 -s rr', 1, 7, 'No such service: TCP 10.0.0.1:80'],
    ['-D -u 10.0.0.1:53', 1, 7, 'No such service: UDP 10.0.0.1:53'],
    ['-Z -f 3', 1, 7, 'No such service: FWM 3'],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2', 1, 7, 'Service not defined: TCP 10.0.0.1:80'],
    ['-A -f 1 -6\n-a -f 1 -r 10.0.0.2', 2, 7, 'Service not defined: FWM 1'],
    ['-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.0.2\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -w 2', 3, 22, 'Destination already exists: 10.0.0.2:80 in TCP 10.0.0.1:80'],
    ['-A -t 10.0.0.1:80\n-e -t 10.0.0.1:80 -r 10.0.0.2', 2, 22, 'No such destination: 10.0.0.2:80 in TCP 10.0.0.1:80'],
    ['-A -t 10.0.0.1:80\n-d -t 10.0.0.1:80 -r 10.0.0.2', 2, 22, 'No such destination: 10.0.0.2:80 in TCP 10.0.0.1:80'],
    ['-d -t 10.0.0.1:80 -r 10.0.0.2', 1, 7, 'Service not defined: TCP 10.0.0.1:80'],
    ['-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.0.2 -x 5 -y 6', 2, 22, 'Numerical result out of range: lower threshold (-y 6) is higher than upper threshold (-x 5)'],
    // An unlimited upper threshold (0) with a lower one is refused too: the kernel compares them as they are.
    ['-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.0.2 -y 1', 2, 22, 'Numerical result out of range: lower threshold (-y 1) is higher than upper threshold (-x 0)'],
  ])('%s', (text, line, column, message) => {
    expect(issue(text)).toMatchObject({ line, column, message });
  });

  it('reports every refused command, and a refused command changes nothing', () => {
    const all = issuesOf('-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.9:80 -r 10.0.0.2\n-D -t 10.0.0.1:81');
    expect(all.map((i) => i.line)).toEqual([2, 3, 4]);
  });

  it('a deleted service can be added again, and its line is then the new one', () => {
    expect(issue('-A -t 10.0.0.1:80\n-D -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80').message).toBe(
      'Service already exists: TCP 10.0.0.1:80 (added on line 3)',
    );
  });
});

describe('syntax and replay errors together', () => {
  it('reports what the kernel would refuse before the first syntax error, and stops there', () => {
    const all = issuesOf([
      '-A -t 10.0.0.1:80',
      '-A -t 10.0.0.1:80 -s rr', // refused by the kernel: reported
      '-A -t 10.0.0.2:80 -s nope', // syntax error
      '-a -t 10.0.0.2:80 -r 10.0.1.1', // would be "Service not defined" only because line 3 failed: not reported
      '-a -t 10.0.0.1:80 -r 10.0.1.1 -w x', // syntax error
    ].join('\n'));
    expect(all.map((i) => [i.line, i.message.split(':')[0]])).toEqual([
      [2, 'Service already exists'],
      [3, "scheduler 'nope' not found; known schedulers"],
      [5, "illegal weight 'x'"],
    ]);
  });
});
