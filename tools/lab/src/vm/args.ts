import { isAbsolute, resolve } from 'node:path';

export type TopologyName = 'seeds' | 'nat' | 'none';

export interface LabOptions {
  /** The command to run in the guest; empty with `shell`. */
  command: string[];
  /** An interactive shell on the terminal instead of a command. */
  shell: boolean;
  /** A host directory mounted read-write in the guest at the same path. */
  results: string | null;
  topology: TopologyName;
  memMb: number;
  /** Guest vCPUs: TCG runs each on a host thread. */
  cpus: number;
  /** Whole-run limit, boot included; null: none. */
  timeoutSec: number | null;
  /** How long the guest may take to reach its stage-2 script. */
  bootTimeoutSec: number;
  kvm: boolean;
  /** Extra environment for the command, from --env NAME=VALUE. */
  env: Record<string, string>;
  /** Host loopback ports forwarded to addresses in the guest, from --forward HOSTPORT:GUESTADDR:PORT. */
  forwards: Forward[];
  help: boolean;
}

/** 127.0.0.1:hostPort on the host reaches guestAddress:guestPort as seen from the guest's root namespace. */
export interface Forward {
  hostPort: number;
  guestAddress: string;
  guestPort: number;
}

/** Parses HOSTPORT:GUESTADDR:PORT (an IPv4 guest address). */
export function parseForward(text: string): Forward {
  const m = /^(\d{1,5}):(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  const ports = m ? [Number(m[1]), Number(m[3])] : [];
  if (!m || ports.some((p) => p < 1 || p > 65535) || (m[2] as string).split('.').some((o) => Number(o) > 255)) {
    throw new UsageError(`--forward: ${JSON.stringify(text)} is not HOSTPORT:GUESTADDR:PORT (e.g. 9780:10.99.0.5:9780)`);
  }
  return { hostPort: ports[0] as number, guestAddress: m[2] as string, guestPort: ports[1] as number };
}

/** Bad command-line arguments; the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const usage = `usage: lab [options] [--] <command> [args...]
       lab [options] --shell

Boots Debian's kernel under qemu with this machine's root shared read-only (writes stay in the
guest's memory), runs the command as root with the current directory as its cwd, streams its
output, and exits with its exit code.

options:
  --shell               an interactive shell in the lab (default topology: seeds)
  --topology NAME       build a topology before the command: seeds | nat | none (default none)
  --results DIR         mount host directory DIR read-write in the guest at the same path
  --env NAME=VALUE      set a variable for the command (repeatable)
  --forward H:ADDR:P    127.0.0.1:H on this machine reaches ADDR:P from the guest's root
                        namespace (qemu user networking, restricted: no other traffic; repeatable)
  --mem MB              guest memory (default 2048)
  --cpus N              guest vCPUs, each a host thread under TCG (default 1)
  --timeout SECONDS     kill the guest after this long, boot included (default 3600; 0: none;
                        none by default with --shell); exit code 124
  --boot-timeout SEC    give up when the guest has not come up after this long (default 120;
                        it takes 4-6 s on an idle host, 30 s and more on a crowded one)
  --kvm                 use KVM instead of TCG (hangs under nested PVM hypervisors; the boot
                        timeout then defaults to 20 s)
  -h, --help            this text

exit codes: the command's own; 124 timeout; 125 the lab failed (the reason is printed); 2 usage;
130/143 interrupted.`;

function positiveInt(flag: string, value: string | undefined, allowZero = false): number {
  if (value === undefined) throw new UsageError(`${flag} needs a value`);
  if (!/^\d+$/.test(value) || (!allowZero && Number(value) === 0)) {
    throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a ${allowZero ? 'non-negative' : 'positive'} whole number`);
  }
  return Number(value);
}

/** Parses lab's arguments; relative paths are resolved against `cwd`. */
export function parseLabArgs(argv: readonly string[], cwd = process.cwd()): LabOptions {
  let topology: TopologyName | null = null;
  let timeoutSec: number | null | undefined;
  let bootTimeoutSec: number | undefined;
  const opts: LabOptions = {
    command: [],
    shell: false,
    results: null,
    topology: 'none',
    memMb: 2048,
    cpus: 1,
    timeoutSec: null,
    bootTimeoutSec: 120,
    kvm: false,
    env: {},
    forwards: [],
    help: false,
  };
  let i = 0;
  const value = (flag: string): string => {
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-')) break;
    const eq = arg.indexOf('=');
    // --flag=value is accepted as well as --flag value
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const take = () => inline ?? value(flag);
    switch (flag) {
      case '-h':
      case '--help':
        opts.help = true;
        break;
      case '--shell':
        opts.shell = true;
        break;
      case '--kvm':
        opts.kvm = true;
        break;
      case '--topology': {
        const t = take();
        if (t !== 'seeds' && t !== 'nat' && t !== 'none') throw new UsageError(`--topology: unknown topology ${JSON.stringify(t)} (seeds, nat, none)`);
        topology = t;
        break;
      }
      case '--results': {
        const dir = take();
        if (!dir) throw new UsageError('--results needs a directory');
        opts.results = isAbsolute(dir) ? resolve(dir) : resolve(cwd, dir);
        if (opts.results.includes(',')) throw new UsageError(`--results: qemu cannot share a path with a comma (${opts.results})`);
        break;
      }
      case '--env': {
        const kv = take();
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(kv);
        if (!m) throw new UsageError(`--env: ${JSON.stringify(kv)} is not NAME=VALUE`);
        opts.env[m[1] as string] = m[2] as string;
        break;
      }
      case '--forward': {
        const f = parseForward(take());
        if (opts.forwards.some((x) => x.hostPort === f.hostPort)) throw new UsageError(`--forward: host port ${f.hostPort} is given twice`);
        opts.forwards.push(f);
        break;
      }
      case '--mem':
        opts.memMb = positiveInt(flag, take());
        if (opts.memMb < 256) throw new UsageError('--mem: the guest needs at least 256 MB');
        break;
      case '--cpus':
        opts.cpus = positiveInt(flag, take());
        break;
      case '--timeout':
        timeoutSec = positiveInt(flag, take(), true) || null;
        break;
      case '--boot-timeout':
        bootTimeoutSec = positiveInt(flag, take());
        break;
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  opts.command = argv.slice(i) as string[];
  if (opts.help) return opts;
  if (opts.shell && opts.command.length) throw new UsageError('--shell takes no command');
  if (!opts.shell && !opts.command.length) throw new UsageError('no command given (or use --shell)');
  opts.topology = topology ?? (opts.shell ? 'seeds' : 'none');
  opts.timeoutSec = timeoutSec !== undefined ? timeoutSec : opts.shell ? null : 3600;
  opts.bootTimeoutSec = bootTimeoutSec ?? (opts.kvm ? 20 : 120);
  return opts;
}
