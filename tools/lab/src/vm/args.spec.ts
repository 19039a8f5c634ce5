import { describe, expect, it } from 'vitest';
import { parseLabArgs, UsageError } from './args.js';

describe('parseLabArgs', () => {
  it('takes the command after --, as tools/test/run.mjs passes it', () => {
    const o = parseLabArgs(['--results', '/r', '--', '/repo/node_modules/.bin/vitest', 'run', '--project', 'kernel'], '/repo');
    expect(o.command).toEqual(['/repo/node_modules/.bin/vitest', 'run', '--project', 'kernel']);
    expect(o.results).toBe('/r');
    expect(o).toMatchObject({ shell: false, topology: 'none', memMb: 2048, cpus: 1, timeoutSec: 3600, bootTimeoutSec: 120, kvm: false });
  });

  it('takes the command from the first word that is not an option (npm run lab -- ipvsadm -Ln)', () => {
    expect(parseLabArgs(['ipvsadm', '-Ln']).command).toEqual(['ipvsadm', '-Ln']);
    expect(parseLabArgs(['--mem', '1024', 'sh', '-c', 'exit 3']).command).toEqual(['sh', '-c', 'exit 3']);
  });

  it('accepts --flag=value and resolves a relative results directory against the cwd', () => {
    const o = parseLabArgs(['--results=out', '--topology=nat', '--mem=512', '--cpus', '2', '--env', 'A=b=c', '--env=EMPTY=', 'true'], '/work');
    expect(o).toMatchObject({ results: '/work/out', topology: 'nat', memMb: 512, cpus: 2, env: { A: 'b=c', EMPTY: '' } });
  });

  it('gives the shell the seeds topology and no time limit unless told otherwise', () => {
    expect(parseLabArgs(['--shell'])).toMatchObject({ shell: true, command: [], topology: 'seeds', timeoutSec: null });
    expect(parseLabArgs(['--shell', '--topology', 'none']).topology).toBe('none');
  });

  it('shortens the boot timeout with --kvm, where a hang is the known failure', () => {
    expect(parseLabArgs(['--kvm', 'true']).bootTimeoutSec).toBe(20);
    expect(parseLabArgs(['--kvm', '--boot-timeout', '5', 'true']).bootTimeoutSec).toBe(5);
  });

  it('treats --timeout 0 as no limit', () => {
    expect(parseLabArgs(['--timeout', '0', 'true']).timeoutSec).toBeNull();
    expect(parseLabArgs(['--timeout', '90', 'true']).timeoutSec).toBe(90);
  });

  it('returns help without demanding a command', () => {
    expect(parseLabArgs(['--help']).help).toBe(true);
  });

  it.each([
    [[], 'no command given (or use --shell)'],
    [['--shell', 'ls'], '--shell takes no command'],
    [['--topology', 'ring', 'true'], '--topology: unknown topology "ring" (seeds, nat, none)'],
    [['--mem', 'lots', 'true'], '--mem: "lots" is not a positive whole number'],
    [['--mem', '128', 'true'], '--mem: the guest needs at least 256 MB'],
    [['--boot-timeout', '0', 'true'], '--boot-timeout: "0" is not a positive whole number'],
    [['--env', 'NOEQUALS', 'true'], '--env: "NOEQUALS" is not NAME=VALUE'],
    [['--results'], '--results needs a value'],
    [['--results', '/a,b', 'true'], '--results: qemu cannot share a path with a comma (/a,b)'],
    [['--frobnicate', 'true'], 'unknown option --frobnicate'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseLabArgs(argv)).toThrow(new UsageError(message));
  });

  it('takes --forward HOSTPORT:GUESTADDR:PORT, repeatable, and refuses a malformed or repeated one', () => {
    expect(parseLabArgs(['--forward', '9780:10.99.0.5:9780', '--forward=8080:10.99.0.100:80', 'true']).forwards).toEqual([
      { hostPort: 9780, guestAddress: '10.99.0.5', guestPort: 9780 },
      { hostPort: 8080, guestAddress: '10.99.0.100', guestPort: 80 },
    ]);
    expect(parseLabArgs(['true']).forwards).toEqual([]);
    expect(() => parseLabArgs(['--forward', '9780:10.99.0.5', 'true'])).toThrow('--forward: "9780:10.99.0.5" is not HOSTPORT:GUESTADDR:PORT');
    expect(() => parseLabArgs(['--forward', '70000:10.99.0.5:80', 'true'])).toThrow(UsageError);
    expect(() => parseLabArgs(['--forward', '1:10.99.0.5:80', '--forward', '1:10.99.0.6:80', 'true'])).toThrow('host port 1 is given twice');
  });
});
