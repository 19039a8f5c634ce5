import {
  IPVS_SCHEDULERS,
  type AddressFamily,
  type IpvsDestination,
  type IpvsForward,
  type IpvsProtocol,
  type IpvsScheduler,
  type IpvsServiceFlags,
  type IpvsServiceKey,
  type TunnelType,
} from '@fulcrum/schemas';
import type { IpvsadmIssue } from './errors.js';
import { formatAddressBytes, ipv4MaskToPrefix, parseAddress, parseIpv6 } from './inet.js';
import type { IpvsServiceSettings, LocatedOperation, SourcePosition } from './operation.js';

// One command line of a restore file -> one operation, with ipvsadm 1.31's option syntax (popt:
// short clusters like `-at`, `-w3`, long `--weight 3` / `--weight=3`, `-p` with an optional
// value) and its checks (which options each command takes, duplicates, tunnel options, zero
// ports, one-packet scheduling). Names and ports must be numeric: nothing is resolved.

/** ipvsadm's option names, used in its messages and in ours. */
type OptionName =
  | 'numeric' | 'connection' | 'service-address' | 'scheduler' | 'persistent' | 'netmask' | 'real-server'
  | 'forwarding-method' | 'weight' | 'u-threshold' | 'l-threshold' | 'mcast-interface' | 'timeout' | 'daemon'
  | 'stats' | 'rate' | 'thresholds' | 'persistent-conn' | 'nosort' | 'syncid' | 'exact' | 'ops' | 'pe'
  | 'sched-flags' | 'mcast-group' | 'mcast-port' | 'mcast-ttl' | 'sync-maxlen' | 'tun-info' | 'tun-type'
  | 'tun-port' | 'tun-nocsum' | 'tun-csum' | 'tun-remcsum';

type CommandName =
  | 'add-service' | 'edit-service' | 'delete-service' | 'flush' | 'add-server' | 'edit-server' | 'delete-server'
  | 'zero' | 'set' | 'list' | 'save' | 'restore' | 'start-daemon' | 'stop-daemon' | 'help' | 'version';

type Role =
  | { command: CommandName }
  | { option: OptionName; protocol?: IpvsProtocol | 'fwmark'; forward?: IpvsForward }
  | { other: 'ipv6' | 'sort' };

interface Spec {
  long: string;
  short?: string;
  arg: 'none' | 'required' | 'optional';
  role: Role;
}

const SPECS: Spec[] = [
  { long: 'add-service', short: 'A', arg: 'none', role: { command: 'add-service' } },
  { long: 'edit-service', short: 'E', arg: 'none', role: { command: 'edit-service' } },
  { long: 'delete-service', short: 'D', arg: 'none', role: { command: 'delete-service' } },
  { long: 'clear', short: 'C', arg: 'none', role: { command: 'flush' } },
  { long: 'list', short: 'L', arg: 'none', role: { command: 'list' } },
  { long: 'list', short: 'l', arg: 'none', role: { command: 'list' } },
  { long: 'zero', short: 'Z', arg: 'none', role: { command: 'zero' } },
  { long: 'add-server', short: 'a', arg: 'none', role: { command: 'add-server' } },
  { long: 'edit-server', short: 'e', arg: 'none', role: { command: 'edit-server' } },
  { long: 'delete-server', short: 'd', arg: 'none', role: { command: 'delete-server' } },
  { long: 'set', arg: 'none', role: { command: 'set' } },
  { long: 'help', short: 'h', arg: 'none', role: { command: 'help' } },
  { long: 'version', short: 'v', arg: 'none', role: { command: 'version' } },
  { long: 'restore', short: 'R', arg: 'none', role: { command: 'restore' } },
  { long: 'save', short: 'S', arg: 'none', role: { command: 'save' } },
  { long: 'start-daemon', arg: 'required', role: { command: 'start-daemon' } },
  { long: 'stop-daemon', arg: 'required', role: { command: 'stop-daemon' } },
  { long: 'tcp-service', short: 't', arg: 'required', role: { option: 'service-address', protocol: 'tcp' } },
  { long: 'udp-service', short: 'u', arg: 'required', role: { option: 'service-address', protocol: 'udp' } },
  { long: 'sctp-service', arg: 'required', role: { option: 'service-address', protocol: 'sctp' } },
  { long: 'fwmark-service', short: 'f', arg: 'required', role: { option: 'service-address', protocol: 'fwmark' } },
  { long: 'scheduler', short: 's', arg: 'required', role: { option: 'scheduler' } },
  { long: 'persistent', short: 'p', arg: 'optional', role: { option: 'persistent' } },
  { long: 'netmask', short: 'M', arg: 'required', role: { option: 'netmask' } },
  { long: 'real-server', short: 'r', arg: 'required', role: { option: 'real-server' } },
  { long: 'masquerading', short: 'm', arg: 'none', role: { option: 'forwarding-method', forward: 'masq' } },
  { long: 'ipip', short: 'i', arg: 'none', role: { option: 'forwarding-method', forward: 'tunnel' } },
  { long: 'gatewaying', short: 'g', arg: 'none', role: { option: 'forwarding-method', forward: 'route' } },
  { long: 'weight', short: 'w', arg: 'required', role: { option: 'weight' } },
  { long: 'u-threshold', short: 'x', arg: 'required', role: { option: 'u-threshold' } },
  { long: 'l-threshold', short: 'y', arg: 'required', role: { option: 'l-threshold' } },
  { long: 'numeric', short: 'n', arg: 'none', role: { option: 'numeric' } },
  { long: 'connection', short: 'c', arg: 'none', role: { option: 'connection' } },
  { long: 'mcast-interface', arg: 'required', role: { option: 'mcast-interface' } },
  { long: 'syncid', arg: 'required', role: { option: 'syncid' } },
  { long: 'timeout', arg: 'none', role: { option: 'timeout' } },
  { long: 'daemon', arg: 'none', role: { option: 'daemon' } },
  { long: 'stats', arg: 'none', role: { option: 'stats' } },
  { long: 'rate', arg: 'none', role: { option: 'rate' } },
  { long: 'thresholds', arg: 'none', role: { option: 'thresholds' } },
  { long: 'persistent-conn', arg: 'none', role: { option: 'persistent-conn' } },
  { long: 'nosort', arg: 'none', role: { option: 'nosort' } },
  { long: 'sort', arg: 'none', role: { other: 'sort' } },
  { long: 'exact', short: 'X', arg: 'none', role: { option: 'exact' } },
  { long: 'ipv6', short: '6', arg: 'none', role: { other: 'ipv6' } },
  { long: 'ops', short: 'o', arg: 'none', role: { option: 'ops' } },
  { long: 'pe', arg: 'required', role: { option: 'pe' } },
  { long: 'sched-flags', short: 'b', arg: 'required', role: { option: 'sched-flags' } },
  { long: 'mcast-group', arg: 'required', role: { option: 'mcast-group' } },
  { long: 'mcast-port', arg: 'required', role: { option: 'mcast-port' } },
  { long: 'mcast-ttl', arg: 'required', role: { option: 'mcast-ttl' } },
  { long: 'sync-maxlen', arg: 'required', role: { option: 'sync-maxlen' } },
  { long: 'tun-info', arg: 'none', role: { option: 'tun-info' } },
  { long: 'tun-type', arg: 'required', role: { option: 'tun-type' } },
  { long: 'tun-port', arg: 'required', role: { option: 'tun-port' } },
  { long: 'tun-nocsum', arg: 'none', role: { option: 'tun-nocsum' } },
  { long: 'tun-csum', arg: 'none', role: { option: 'tun-csum' } },
  { long: 'tun-remcsum', arg: 'none', role: { option: 'tun-remcsum' } },
];

const BY_SHORT = new Map(SPECS.filter((s) => s.short).map((s) => [s.short as string, s]));
const BY_LONG = new Map(SPECS.map((s) => [s.long, s]));

/** What each table-changing command takes ('+' required, ' ' optional); anything else is illegal. */
const COMMAND_OPTIONS: Partial<Record<CommandName, Partial<Record<OptionName, '+' | ' '>>>> = {
  'add-service': { 'service-address': '+', scheduler: ' ', persistent: ' ', netmask: ' ', ops: ' ', pe: ' ', 'sched-flags': ' ' },
  'edit-service': { 'service-address': '+', scheduler: ' ', persistent: ' ', netmask: ' ', ops: ' ', pe: ' ', 'sched-flags': ' ' },
  'delete-service': { 'service-address': '+' },
  flush: {},
  'add-server': {
    'service-address': '+', 'real-server': '+', 'forwarding-method': ' ', weight: ' ', 'u-threshold': ' ', 'l-threshold': ' ',
    'tun-type': ' ', 'tun-port': ' ', 'tun-nocsum': ' ', 'tun-csum': ' ', 'tun-remcsum': ' ',
  },
  'edit-server': {
    'service-address': '+', 'real-server': '+', 'forwarding-method': ' ', weight: ' ', 'u-threshold': ' ', 'l-threshold': ' ',
    'tun-type': ' ', 'tun-port': ' ', 'tun-nocsum': ' ', 'tun-csum': ' ', 'tun-remcsum': ' ',
  },
  'delete-server': { 'service-address': '+', 'real-server': '+' },
  zero: { 'service-address': ' ' },
  set: {},
};

const SHORT_COMMAND: Record<CommandName, string> = {
  'add-service': '-A', 'edit-service': '-E', 'delete-service': '-D', flush: '-C', 'add-server': '-a', 'edit-server': '-e',
  'delete-server': '-d', zero: '-Z', set: '--set', list: '-L', save: '-S', restore: '-R', 'start-daemon': '--start-daemon',
  'stop-daemon': '--stop-daemon', help: '-h', version: '-v',
};

export const MAX_PERSISTENCE_TIMEOUT = 86400 * 31;
export const DEFAULT_PERSISTENCE_TIMEOUT = 360;
const INT_MAX = 2147483647;
export const PERSISTENCE_ENGINES = ['sip'] as const;

interface Occurrence {
  spec: Spec;
  /** The option token itself. */
  at: SourcePosition;
  /** Its value, when it has one. */
  value?: SourcePosition;
}

export interface CommandParseResult {
  located?: LocatedOperation;
  issues: IpvsadmIssue[];
}

/** Parse one tokenized line. An empty token list is not a command (the caller skips it). */
export function parseCommandTokens(tokens: readonly SourcePosition[]): CommandParseResult {
  const issues: IpvsadmIssue[] = [];
  const fail = (at: SourcePosition, message: string) => issues.push({ line: at.line, column: at.column, token: at.token, message });
  const first = tokens[0];
  if (!first) return { issues };
  const endOfLine: SourcePosition = { line: first.line, column: lineEnd(tokens), token: '' };

  // 1. Split the tokens into option occurrences and positional arguments, popt style.
  const occurrences: Occurrence[] = [];
  const positional: SourcePosition[] = [];
  let i = 0;
  let optionsEnded = false;
  while (i < tokens.length) {
    const t = tokens[i++] as SourcePosition;
    const negativeNumber = /^-\d/.test(t.token) && !BY_SHORT.has(t.token[1] ?? '');
    if (optionsEnded || !t.token.startsWith('-') || t.token === '-' || negativeNumber) {
      positional.push(t);
      continue;
    }
    if (t.token === '--') {
      optionsEnded = true;
      continue;
    }
    if (t.token.startsWith('--')) {
      const eq = t.token.indexOf('=');
      const name = t.token.slice(2, eq === -1 ? undefined : eq);
      const spec = BY_LONG.get(name);
      const optAt: SourcePosition = { ...t, token: eq === -1 ? t.token : t.token.slice(0, eq) };
      if (!spec) {
        fail(optAt, `unknown option '--${name}'`);
        continue;
      }
      if (eq !== -1) {
        const value = { line: t.line, column: t.column + eq + 1, token: t.token.slice(eq + 1) };
        if (spec.arg === 'none') fail(optAt, `option '--${name}' takes no value`);
        else occurrences.push({ spec, at: optAt, value });
        continue;
      }
      if (spec.arg === 'none') occurrences.push({ spec, at: optAt });
      else i = takeValue(spec, optAt, tokens, i, occurrences, fail, endOfLine);
      continue;
    }
    // A cluster of short options: flags until one that takes a value, which gets the rest.
    for (let k = 1; k < t.token.length; k++) {
      const ch = t.token[k] as string;
      const spec = BY_SHORT.get(ch);
      const optAt: SourcePosition = { line: t.line, column: t.column + k - (k === 1 ? 1 : 0), token: k === 1 ? `-${ch}` : ch };
      if (!spec) {
        fail(optAt, `unknown option '-${ch}'`);
        break;
      }
      if (spec.arg !== 'none' && k + 1 < t.token.length) {
        occurrences.push({ spec, at: optAt, value: { line: t.line, column: t.column + k + 1, token: t.token.slice(k + 1) } });
        break;
      }
      if (spec.arg !== 'none') {
        i = takeValue(spec, optAt, tokens, i, occurrences, fail, endOfLine);
        break;
      }
      occurrences.push({ spec, at: optAt });
    }
  }
  if (issues.length > 0) return { issues };

  // 2. Exactly one command, and only the options it takes, each once.
  const commands = occurrences.filter((o) => 'command' in o.spec.role);
  if (commands.length === 0) {
    fail(first, 'no command: a line must hold one of -A -E -D -a -e -d -C -Z --set');
    return { issues };
  }
  if (commands.length > 1) {
    fail(commands[1]?.at as SourcePosition, 'multiple commands specified');
    return { issues };
  }
  const commandAt = (commands[0] as Occurrence).at;
  const command = ((commands[0] as Occurrence).spec.role as { command: CommandName }).command;
  const allowed = COMMAND_OPTIONS[command];
  if (!allowed) {
    fail(commandAt, `the '${command}' command (${SHORT_COMMAND[command]}) does not change the table and cannot be restored; ` +
      'allowed: -A -E -D -a -e -d -C -Z --set');
    return { issues };
  }
  const seen = new Map<OptionName, Occurrence>();
  let ipv6Fwmark: Occurrence | undefined;
  for (const o of occurrences) {
    const role = o.spec.role;
    if ('other' in role) {
      if (role.other === 'ipv6') {
        if (!seen.has('service-address') || seen.get('service-address')?.spec.long !== 'fwmark-service') fail(o.at, '-6 used before -f');
        else ipv6Fwmark = o;
      }
      continue;
    }
    if (!('option' in role)) continue;
    if (seen.has(role.option)) {
      fail(o.at, `multiple '${role.option}' options specified`);
      continue;
    }
    seen.set(role.option, o);
    if (!allowed[role.option]) fail(o.at, `illegal '${role.option}' option with the '${command}' command`);
  }
  for (const [name, need] of Object.entries(allowed) as [OptionName, '+' | ' '][]) {
    if (need === '+' && !seen.has(name)) fail(commandAt, `the '${command}' command needs the '${name}' option`);
  }
  if (command !== 'set') for (const p of positional) fail(p, `unexpected argument '${p.token}'`);
  if (issues.length > 0) return { issues };

  // 3. Values.
  const at = commandAt;
  if (command === 'flush') return { located: { operation: { op: 'flush' }, at }, issues };
  if (command === 'set') {
    if (positional.length !== 3) {
      fail(positional[3] ?? endOfLine, '--set needs exactly 3 timeout values: tcp tcpfin udp');
      return { issues };
    }
    const [tcp, tcpFin, udp] = positional.map((p) => parseTimeout(p, 0, fail));
    if (tcp === undefined || tcpFin === undefined || udp === undefined) return { issues };
    return { located: { operation: { op: 'setTimeouts', timeouts: { tcp, tcpFin, udp } }, at }, issues };
  }

  const svcOcc = seen.get('service-address');
  if (command === 'zero' && !svcOcc) return { located: { operation: { op: 'zero' }, at }, issues };
  const service = parseServiceKey(svcOcc as Occurrence, ipv6Fwmark !== undefined, fail);
  if (!service) return { issues };
  const { key, family } = service;
  const serviceAt = service.at;
  const svcPort = key.kind === 'addr' ? key.port : 0;

  switch (command) {
    case 'zero':
      return { located: { operation: { op: 'zero', key }, at, serviceAt }, issues };
    case 'delete-service':
      return { located: { operation: { op: 'deleteService', key }, at, serviceAt }, issues };
    case 'add-service':
    case 'edit-service': {
      const settings = parseServiceSettings(key, family, seen, fail, endOfLine);
      if (!settings) return { issues };
      const service = { ...settings, destinations: [] };
      return { located: { operation: { op: command === 'add-service' ? 'addService' : 'editService', service }, at, serviceAt }, issues };
    }
    default: {
      const serverOcc = seen.get('real-server') as Occurrence;
      const server = parseServer(serverOcc, svcPort, fail);
      if (!server) return { issues };
      const serverAt = serverOcc.value as SourcePosition;
      if (command === 'delete-server') {
        const destination = { address: server.address, port: server.port };
        return { located: { operation: { op: 'deleteDestination', key, destination }, at, serviceAt, serverAt }, issues };
      }
      const destination = parseDestination(key, family, server, seen, fail);
      if (!destination) return { issues };
      const op = command === 'add-server' ? 'addDestination' : 'editDestination';
      return { located: { operation: { op, key, destination }, at, serviceAt, serverAt }, issues };
    }
  }
}

type Fail = (at: SourcePosition, message: string) => void;

function lineEnd(tokens: readonly SourcePosition[]): number {
  const last = tokens[tokens.length - 1] as SourcePosition;
  return last.column + last.token.length;
}

function takeValue(spec: Spec, optAt: SourcePosition, tokens: readonly SourcePosition[], i: number, out: Occurrence[], fail: Fail, end: SourcePosition): number {
  const next = tokens[i];
  // A value may start with '-' only when it is a number (e.g. a negative fwmark).
  const usable = next !== undefined && (!next.token.startsWith('-') || /^-\d+$/.test(next.token));
  if (spec.arg === 'optional') {
    if (next !== undefined && !next.token.startsWith('-')) {
      out.push({ spec, at: optAt, value: next });
      return i + 1;
    }
    out.push({ spec, at: optAt });
    return i;
  }
  if (!usable) {
    fail(next ?? end, `option '${optAt.token.startsWith('--') ? optAt.token : `-${spec.short}`}' needs a value`);
    return i;
  }
  out.push({ spec, at: optAt, value: next });
  return i + 1;
}

/** A decimal number within [min, max], or undefined. */
function decimal(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

function parseTimeout(p: SourcePosition, min: number, fail: Fail): number | undefined {
  const n = decimal(p.token, min, MAX_PERSISTENCE_TIMEOUT);
  if (n === undefined) fail(p, `invalid timeout value '${p.token}': expected a whole number of seconds from ${min} to ${MAX_PERSISTENCE_TIMEOUT}`);
  return n;
}

interface AddressPort {
  family: AddressFamily;
  address: string;
  /** undefined when the text had no port. */
  port?: number;
}

/** ipvsadm's `host[:port]` / `[v6]:port` / bare IPv6, numeric only. */
function parseAddressPort(p: SourcePosition, what: string, fail: Fail): AddressPort | undefined {
  const text = p.token;
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1 || text[close + 1] !== ':') {
      fail(p, `illegal ${what} '${text}': an IPv6 address in brackets must be followed by ':port', as in [2001:db8::1]:80`);
      return undefined;
    }
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!parseIpv6(host)) {
      fail(p, `illegal ${what} '${text}': '${host}' is not an IPv6 address`);
      return undefined;
    }
  } else if (!parseIpv6(text)) {
    const colon = text.lastIndexOf(':');
    if (colon !== -1) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  if (/^\d+$/.test(text)) {
    fail(p, `illegal ${what} '${text}': expected address[:port]`);
    return undefined;
  }
  const addr = parseAddress(host);
  if (!addr) {
    const looksNumeric = /^[\d.]+$/.test(host);
    fail(p, looksNumeric
      ? `illegal ${what} '${text}': '${host}' is not a dotted-quad IPv4 address (four decimal octets 0-255, no leading zeros)`
      : `illegal ${what} '${text}': host names are not resolved, use a numeric IPv4 or IPv6 address`);
    return undefined;
  }
  if (portText === undefined) return { family: addr.family, address: formatAddressBytes(addr) };
  const port = decimal(portText, 0, 65535);
  if (port === undefined) {
    fail(p, /^[a-zA-Z][\w-]*$/.test(portText)
      ? `illegal ${what} '${text}': service names are not resolved, use a port number instead of '${portText}'`
      : `illegal ${what} '${text}': port '${portText}' is not a decimal number from 0 to 65535`);
    return undefined;
  }
  return { family: addr.family, address: formatAddressBytes(addr), port };
}

interface ParsedService {
  key: IpvsServiceKey;
  family: AddressFamily;
  at: SourcePosition;
}

function parseServiceKey(o: Occurrence, ipv6: boolean, fail: Fail): ParsedService | undefined {
  const at = o.value as SourcePosition;
  const protocol = (o.spec.role as { protocol: IpvsProtocol | 'fwmark' }).protocol;
  if (protocol === 'fwmark') {
    const t = at.token;
    let mark: number | undefined;
    if (/^\d+$/.test(t)) mark = decimal(t, 1, 0xffffffff);
    // ipvsadm 1.31 prints marks above 2^31-1 as negative numbers (`-f %d`); read those back too.
    else if (/^-\d+$/.test(t) && Number(t) >= -0x80000000) mark = Number(t) >>> 0;
    if (mark === undefined) {
      fail(at, `invalid fwmark value '${t}': expected a whole number from 1 to 4294967295`);
      return undefined;
    }
    const family: AddressFamily = ipv6 ? 'inet6' : 'inet';
    return { key: { kind: 'fwmark', fwmark: mark, family }, family, at };
  }
  const ap = parseAddressPort(at, 'virtual service address', fail);
  if (!ap) return undefined;
  return { key: { kind: 'addr', protocol, address: ap.address, port: ap.port ?? 0 }, family: ap.family, at };
}

function parseServiceSettings(
  key: IpvsServiceKey,
  family: AddressFamily,
  seen: Map<OptionName, Occurrence>,
  fail: Fail,
  end: SourcePosition,
): IpvsServiceSettings | undefined {
  let ok = true;
  const bad = (at: SourcePosition, message: string) => {
    ok = false;
    fail(at, message);
  };

  let scheduler: IpvsScheduler = 'wlc';
  const sched = seen.get('scheduler')?.value;
  if (sched) {
    if ((IPVS_SCHEDULERS as readonly string[]).includes(sched.token)) scheduler = sched.token as IpvsScheduler;
    else bad(sched, `scheduler '${sched.token}' not found; known schedulers: ${IPVS_SCHEDULERS.join(' ')}`);
  }

  let persistence = 0;
  const persistent = seen.get('persistent');
  if (persistent) {
    if (!persistent.value) persistence = DEFAULT_PERSISTENCE_TIMEOUT;
    else {
      const n = decimal(persistent.value.token, 1, MAX_PERSISTENCE_TIMEOUT);
      if (n === undefined) bad(persistent.value, `invalid persistence timeout '${persistent.value.token}': expected seconds from 1 to ${MAX_PERSISTENCE_TIMEOUT}`);
      else persistence = n;
    }
  }

  let persistencePrefix: number | undefined;
  const mask = seen.get('netmask')?.value;
  if (mask) {
    if (family === 'inet') {
      const prefix = ipv4MaskToPrefix(mask.token);
      if (prefix === null) bad(mask, `illegal persistence netmask '${mask.token}': expected a contiguous dotted mask such as 255.255.255.0`);
      else if (prefix !== 32) persistencePrefix = prefix;
    } else {
      const prefix = decimal(mask.token, 1, 128);
      if (prefix === undefined) bad(mask, `illegal IPv6 persistence netmask '${mask.token}': expected a prefix length from 1 to 128`);
      else if (prefix !== 128) persistencePrefix = prefix;
    }
  }

  let persistenceEngine: string | undefined;
  const pe = seen.get('pe')?.value;
  if (pe) {
    if ((PERSISTENCE_ENGINES as readonly string[]).includes(pe.token)) persistenceEngine = pe.token;
    else bad(pe, `persistence engine '${pe.token}' not found; known engines: ${PERSISTENCE_ENGINES.join(' ')}`);
  }

  const flags: IpvsServiceFlags = { onePacket: false, shFallback: false, shPort: false, mhFallback: false, mhPort: false };
  const ops = seen.get('ops');
  if (ops) {
    if (key.kind === 'addr' && key.protocol !== 'udp') bad(ops.at, 'one-packet scheduling (-o) is only for UDP virtual services');
    else flags.onePacket = true;
  }
  const schedFlags = seen.get('sched-flags')?.value;
  // With an unknown scheduler, whether a flag fits it cannot be told; that error is enough.
  if (schedFlags && ok) {
    for (const flag of schedFlags.token.split(',')) {
      const meaning = schedulerFlag(scheduler, flag);
      if (typeof meaning === 'string') bad(schedFlags, meaning);
      else flags[meaning.flag] = true;
    }
  }

  if (key.kind === 'addr' && key.port === 0 && persistence === 0) {
    bad(seen.get('service-address')?.value ?? end, 'zero port specified for a non-persistent service (add -p, or give a port)');
  }
  if (!ok) return undefined;
  const settings: IpvsServiceSettings = { key, scheduler, flags, persistence };
  if (persistencePrefix !== undefined) settings.persistencePrefix = persistencePrefix;
  if (persistenceEngine !== undefined) settings.persistenceEngine = persistenceEngine;
  return settings;
}

/**
 * The model's flag for `-b flag` on this scheduler, or an error message. The kernel keeps flag
 * bits 1 and 2 whatever the scheduler (only sh and mh read them); the model names them after sh
 * (or mh), so `flag-1` on wrr is kept as `shFallback` and printed back as `flag-1`.
 */
function schedulerFlag(scheduler: IpvsScheduler, flag: string): { flag: keyof IpvsServiceFlags } | string {
  const mh = scheduler === 'mh';
  const named: Partial<Record<string, keyof IpvsServiceFlags>> = {
    'flag-1': mh ? 'mhFallback' : 'shFallback',
    'flag-2': mh ? 'mhPort' : 'shPort',
    ...(scheduler === 'sh' ? { 'sh-fallback': 'shFallback', 'sh-port': 'shPort' } : {}),
    ...(mh ? { 'mh-fallback': 'mhFallback', 'mh-port': 'mhPort' } : {}),
  };
  const found = named[flag];
  if (found) return { flag: found };
  if (['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'].includes(flag)) {
    return `incompatible scheduler flag '${flag}' for scheduler '${scheduler}' (it needs -s ${flag.slice(0, 2)})`;
  }
  if (flag === 'flag-3') return `scheduler flag 'flag-3' is not supported: no scheduler reads it and the table model does not keep it`;
  return `invalid scheduler flag '${flag}'; valid: sh-fallback sh-port (with -s sh), mh-fallback mh-port (with -s mh), flag-1, flag-2`;
}

function parseServer(o: Occurrence, servicePort: number, fail: Fail): { family: AddressFamily; address: string; port: number } | undefined {
  const ap = parseAddressPort(o.value as SourcePosition, 'real server address', fail);
  if (!ap) return undefined;
  // Like ipvsadm: a real server without a port gets the service's port.
  return { family: ap.family, address: ap.address, port: ap.port ?? servicePort };
}

const TUNNEL_OPTIONS: Record<TunnelType, Partial<Record<OptionName, '+' | 'x' | '1'>>> = {
  ipip: { 'tun-port': 'x', 'tun-nocsum': 'x', 'tun-csum': 'x', 'tun-remcsum': 'x' },
  gue: { 'tun-port': '+', 'tun-nocsum': '1', 'tun-csum': '1', 'tun-remcsum': '1' },
  gre: { 'tun-port': 'x', 'tun-nocsum': '1', 'tun-csum': '1', 'tun-remcsum': 'x' },
};

function parseDestination(
  key: IpvsServiceKey,
  family: AddressFamily,
  server: { family: AddressFamily; address: string; port: number },
  seen: Map<OptionName, Occurrence>,
  fail: Fail,
): IpvsDestination | undefined {
  let ok = true;
  const bad = (at: SourcePosition, message: string) => {
    ok = false;
    fail(at, message);
  };
  const number = (name: OptionName, max: number, label: string, fallback: number): number => {
    const v = seen.get(name)?.value;
    if (!v) return fallback;
    const n = decimal(v.token, 0, max);
    if (n === undefined) bad(v, `illegal ${label} '${v.token}': expected a whole number from 0 to ${max}`);
    return n ?? fallback;
  };
  const forwardOcc = seen.get('forwarding-method');
  const forward: IpvsForward = forwardOcc ? (forwardOcc.spec.role as { forward: IpvsForward }).forward : 'route';
  // Debian's ipvsadm takes weights up to 2^31-1; the table model (like keepalived) stops at 65535.
  const weight = number('weight', 65535, 'weight', 1);
  const upperThreshold = number('u-threshold', INT_MAX, 'upper threshold (-x)', 0);
  const lowerThreshold = number('l-threshold', INT_MAX, 'lower threshold (-y)', 0);

  // DR and TUN cannot change the port: ipvsadm silently uses the service's.
  const port = key.kind === 'addr' && (forward === 'route' || forward === 'tunnel') ? key.port : server.port;
  const serverAt = seen.get('real-server')?.value as SourcePosition;
  if (server.family !== family && forward !== 'tunnel') {
    bad(serverAt, `real server '${serverAt.token}' is ${server.family === 'inet6' ? 'IPv6' : 'IPv4'} but the service is ` +
      `${family === 'inet6' ? 'IPv6' : 'IPv4'}; a different address family is allowed only for tunneling (-i) servers`);
  }

  const tunnelOptions: OptionName[] = ['tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];
  const givenTunnel = tunnelOptions.filter((n) => seen.has(n));
  let tunnelType: TunnelType = 'ipip';
  let tunnelPort = 0;
  const tunnelFlags: ('csum' | 'remcsum')[] = [];
  if (givenTunnel.length > 0 && forward !== 'tunnel') {
    bad((seen.get(givenTunnel[0] as OptionName) as Occurrence).at, 'tunnel options conflict with the forwarding method (they need -i)');
  } else if (forward === 'tunnel') {
    const typeAt = seen.get('tun-type')?.value;
    if (typeAt) {
      if (typeAt.token === 'ipip' || typeAt.token === 'gue' || typeAt.token === 'gre') tunnelType = typeAt.token;
      else bad(typeAt, `illegal tunnel type '${typeAt.token}': expected ipip, gue or gre`);
    }
    const rules = TUNNEL_OPTIONS[tunnelType];
    let exclusive: Occurrence | undefined;
    for (const name of tunnelOptions.slice(1)) {
      const o = seen.get(name);
      const rule = rules[name];
      if (!o) {
        if (rule === '+') bad(typeAt ?? serverAt, `the '${tunnelType}' tunnel type needs the '${name}' option`);
        continue;
      }
      if (rule === 'x') bad(o.at, `illegal '${name}' option with the '${tunnelType}' tunnel type`);
      else if (rule === '1') {
        if (exclusive) bad(o.at, `the option '${name}' conflicts with the '${(exclusive.spec.role as { option: string }).option}' option`);
        exclusive = o;
      }
    }
    const portAt = seen.get('tun-port')?.value;
    if (portAt && rules['tun-port'] !== 'x') {
      const n = decimal(portAt.token, 1, 65535);
      if (n === undefined) bad(portAt, `illegal tunnel port '${portAt.token}': expected a number from 1 to 65535`);
      else tunnelPort = n;
    }
    if (seen.has('tun-csum')) tunnelFlags.push('csum');
    if (seen.has('tun-remcsum')) tunnelFlags.push('remcsum');
  }
  if (!ok) return undefined;
  return { address: server.address, port, forward, weight, upperThreshold, lowerThreshold, tunnelType, tunnelPort, tunnelFlags };
}
