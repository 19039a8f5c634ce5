import { isIP } from 'node:net';
import { includeFromFiles } from './include.js';
import { type ConfNode, type ParseOptions, type Position, KeepalivedSyntaxError, parseKeepalivedConf } from './parse.js';

// keepalived.conf -> Fulcrum desired-state objects (as input objects: the schemas fill the defaults and judge
// them). What Fulcrum does differently (notify scripts, SMTP alerts, garp tuning) or does not need is a warning with
// its line, never a silent loss; a value that cannot be read is an error with line:column.

export interface KeepalivedWarning {
  line: number;
  column: number;
  file: string;
  message: string;
}

export interface KeepalivedImport {
  objects: Record<string, unknown>[];
  warnings: KeepalivedWarning[];
}

export interface ImportOptions extends ParseOptions {
  /** The director this file belongs to: `priority` becomes this host's priority. Default director1. */
  host?: string;
  /** The files `include` may name (path -> text), followed as keepalived does (see include.ts); `file` names the main one. */
  files?: Readonly<Record<string, string>>;
}

/** A value keepalived would refuse (or that has no meaning here); points at the word. */
export class KeepalivedImportError extends Error {
  override readonly name = 'KeepalivedImportError';
  constructor(
    readonly at: Position,
    readonly detail: string,
  ) {
    super(`${at.file === '' ? '' : `${at.file}:`}${at.line}:${at.column}: ${detail}`);
  }
}

type Obj = Record<string, unknown>;

/** Ids are slugs: VI_1 -> vi-1. */
export const slugify = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63) || 'unnamed';

/** tcp-192-168-80-150-80, fwmark-81: the id an imported virtual service gets. */
export function virtualServiceIdFor(match: { kind: 'address'; protocol: string; address: string; port: number } | { kind: 'fwmark'; fwmark: number; family?: string }): string {
  if (match.kind === 'fwmark') return `fwmark-${match.fwmark}${match.family === 'inet6' ? '-v6' : ''}`;
  return `${match.protocol}-${match.address.toLowerCase().replace(/[.:]/g, '-').replace(/^-+|-+$/g, '')}-${match.port}`;
}

class Reader {
  readonly warnings: KeepalivedWarning[] = [];

  warn(node: ConfNode, message: string): void {
    this.warnings.push({ line: node.at.line, column: node.at.column, file: node.at.file, message });
  }

  fail(node: ConfNode, message: string): never {
    throw new KeepalivedImportError(node.at, message);
  }

  int(node: ConfNode, i = 0, min = -Infinity, max = Infinity): number {
    const raw = node.args[i];
    if (raw === undefined) this.fail(node, `${node.keyword} needs a number`);
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || n < min || n > max) this.fail(node, `${node.keyword}: "${raw}" is not a whole number${Number.isFinite(min) ? ` from ${min} to ${max}` : ''}`);
    return n;
  }

  num(node: ConfNode, i = 0): number {
    const raw = node.args[i];
    if (raw === undefined || !/^\d+(\.\d+)?$/.test(raw)) this.fail(node, `${node.keyword}: ${raw === undefined ? 'needs a number' : `"${raw}" is not a number`}`);
    return Number(raw);
  }

  word(node: ConfNode, i = 0): string {
    const raw = node.args[i];
    if (raw === undefined) this.fail(node, `${node.keyword} needs a value`);
    return raw;
  }

  ip(node: ConfNode, i = 0): string {
    const raw = this.word(node, i);
    if (isIP(raw) === 0) this.fail(node, `${node.keyword}: "${raw}" is not an IP address`);
    return raw;
  }

  block(node: ConfNode): ConfNode[] {
    if (!node.children) this.fail(node, `${node.keyword} needs a block { ... }`);
    return node.children;
  }
}

const IGNORED_GLOBAL = new Set([
  'router_id', 'notification_email', 'notification_email_from', 'smtp_server', 'smtp_connect_timeout', 'smtp_helo_name',
  'enable_traps', 'script_user', 'enable_script_security', 'lvs_id', 'vrrp_skip_check_adv_addr', 'vrrp_strict',
  'vrrp_garp_interval', 'vrrp_gna_interval', 'vrrp_mcast_group4', 'vrrp_mcast_group6', 'max_auto_priority',
]);
const SILENT_INSTANCE = new Set(['state', 'dont_track_primary', 'garp_master_delay', 'garp_master_refresh', 'garp_master_repeat', 'native_ipv6']);
const NOTIFY = /^notify(_master|_backup|_fault|_stop|_up|_down|_deleted)?$|^smtp_alert$/;

/** Parses keepalived.conf text and converts it; throws KeepalivedSyntaxError / KeepalivedImportError with line:column. */
export function importKeepalivedConf(text: string, opts: ImportOptions = {}): KeepalivedImport {
  // With `files`, includes are followed among them; a pattern that matches none of them is a warning.
  const includeWarnings: KeepalivedWarning[] = [];
  const include =
    opts.files === undefined
      ? opts.include
      : includeFromFiles(opts.files, (w) => includeWarnings.push({ file: w.at.file, line: w.at.line, column: w.at.column, message: w.message }));
  const nodes = parseKeepalivedConf(text, { ...opts, ...(include === undefined ? {} : { include }) });
  const host = opts.host ?? 'director1';
  const r = new Reader();
  let defaultVersion: number | undefined;
  const scripts = new Map<string, Obj>();
  const syncGroups = new Map<string, string>();
  const instances: Obj[] = [];
  const services: Obj[] = [];

  // Scripts and sync groups first: instances refer to them wherever they appear in the file.
  for (const n of nodes) {
    if (n.keyword === 'vrrp_script') scripts.set(r.word(n), readScript(r, n));
    if (n.keyword === 'vrrp_sync_group') {
      const name = slugify(r.word(n));
      for (const c of r.block(n)) {
        if (c.keyword === 'group') for (const m of r.block(c)) syncGroups.set(m.keyword, name);
        else if (NOTIFY.test(c.keyword)) r.warn(c, `${c.keyword}: Fulcrum publishes state changes as vrrp-state events instead of running scripts; ignored`);
        else r.warn(c, `unknown keyword "${c.keyword}" in vrrp_sync_group; ignored`);
      }
    }
  }
  for (const n of nodes) {
    switch (n.keyword) {
      case 'global_defs':
        for (const c of r.block(n)) {
          if (c.keyword === 'vrrp_version') defaultVersion = r.int(c, 0, 2, 3);
          else if (!IGNORED_GLOBAL.has(c.keyword)) r.warn(c, `unknown keyword "${c.keyword}" in global_defs; ignored`);
        }
        break;
      case 'vrrp_instance':
        instances.push(readInstance(r, n, host, scripts, syncGroups));
        break;
      case 'virtual_server':
        services.push(readVirtualServer(r, n));
        break;
      case 'vrrp_script':
      case 'vrrp_sync_group':
        break;
      case 'virtual_server_group':
        r.warn(n, 'virtual_server_group is not supported: define one virtual service per address (or use a firewall mark); ignored');
        break;
      case 'static_ipaddress':
      case 'static_routes':
      case 'static_rules':
        r.warn(n, `${n.keyword}: Fulcrum does not manage static addresses or routes; ignored`);
        break;
      default:
        r.warn(n, `unknown keyword "${n.keyword}" at the top level; ignored`);
    }
  }
  for (const i of instances) if (defaultVersion !== undefined && i.version === undefined) i.version = defaultVersion;
  const objects: Obj[] = [];
  if (instances.length > 0) objects.push({ kind: 'host', name: host, roles: ['director'] });
  objects.push(...instances, ...services);
  return { objects, warnings: [...includeWarnings, ...r.warnings] };
}

function readScript(r: Reader, n: ConfNode): Obj {
  const s: Obj = { name: slugify(r.word(n)) };
  for (const c of r.block(n)) {
    switch (c.keyword) {
      case 'script': {
        const words = c.args.join(' ').trim().split(/\s+/);
        if (!words[0]) r.fail(c, 'script needs a program');
        s.path = words[0];
        if (words.length > 1) s.args = words.slice(1);
        break;
      }
      case 'interval':
        s.interval = r.num(c);
        break;
      case 'timeout':
        s.timeout = r.num(c);
        break;
      case 'weight':
        s.weight = r.int(c, 0, -253, 253);
        if (c.args[1] === 'reverse') s.reverse = true;
        break;
      case 'rise':
        s.rise = r.int(c, 0, 1);
        break;
      case 'fall':
        s.fall = r.int(c, 0, 1);
        break;
      case 'init_fail':
        s.initFail = true;
        break;
      case 'user':
        r.warn(c, 'user: vrrp-agent runs track scripts as its own user; ignored');
        break;
      default:
        r.warn(c, `unknown keyword "${c.keyword}" in vrrp_script; ignored`);
    }
  }
  return s;
}

function readInstance(r: Reader, n: ConfNode, host: string, scripts: Map<string, Obj>, syncGroups: Map<string, string>): Obj {
  const name = r.word(n);
  const v: Obj = { kind: 'vrrp-instance', id: slugify(name), priorities: { [host]: 100 } };
  const vips: Obj[] = [];
  for (const c of r.block(n)) {
    switch (c.keyword) {
      case 'interface':
        v.interface = r.word(c);
        break;
      case 'virtual_router_id':
        v.virtualRouterId = r.int(c, 0, 1, 255);
        break;
      case 'priority':
        v.priorities = { [host]: r.int(c, 0, 1, 255) };
        break;
      case 'advert_int':
        v.advertInterval = r.num(c);
        break;
      case 'version':
        v.version = r.int(c, 0, 2, 3);
        break;
      case 'nopreempt':
        v.preempt = false;
        break;
      case 'preempt':
        v.preempt = true;
        break;
      case 'preempt_delay':
        v.preemptDelay = r.num(c);
        break;
      case 'authentication': {
        let type: string | undefined;
        let password: string | undefined;
        for (const a of r.block(c)) {
          if (a.keyword === 'auth_type') type = r.word(a).toUpperCase();
          else if (a.keyword === 'auth_pass') password = r.word(a);
          else r.warn(a, `unknown keyword "${a.keyword}" in authentication; ignored`);
        }
        if (type === 'AH') r.warn(c, 'auth_type AH is deprecated and not supported; the instance runs without authentication');
        else if (password !== undefined) v.authentication = { type: 'pass', password };
        break;
      }
      case 'virtual_ipaddress':
      case 'virtual_ipaddress_excluded':
        for (const a of r.block(c)) vips.push(readVip(r, a));
        break;
      case 'unicast_peer':
        v.unicastPeers = r.block(c).map((p) => {
          if (isIP(p.keyword) === 0) r.fail(p, `unicast_peer: "${p.keyword}" is not an IP address`);
          return p.keyword;
        });
        break;
      case 'track_interface':
        v.trackInterfaces = r.block(c).map((t) => ({ interface: t.keyword, ...(t.args[0] === 'weight' ? { weight: r.int(t, 1, -253, 253) } : {}) }));
        break;
      case 'track_script':
        v.trackScripts = r.block(c).map((t) => {
          const s = scripts.get(t.keyword);
          if (!s) r.fail(t, `track_script: no vrrp_script "${t.keyword}" in this file`);
          return t.args[0] === 'weight' ? { ...s, weight: r.int(t, 1, -253, 253) } : { ...s };
        });
        break;
      default:
        if (SILENT_INSTANCE.has(c.keyword)) break;
        if (NOTIFY.test(c.keyword)) r.warn(c, `${c.keyword}: Fulcrum publishes state changes as vrrp-state events instead of running scripts; ignored`);
        else if (c.keyword === 'unicast_src_ip' || c.keyword === 'mcast_src_ip') r.warn(c, `${c.keyword}: vrrp-agent uses the interface's primary address; ignored`);
        else r.warn(c, `unknown keyword "${c.keyword}" in vrrp_instance; ignored`);
    }
  }
  v.virtualAddresses = vips;
  const group = syncGroups.get(name);
  if (group) v.syncGroup = group;
  return v;
}

function readVip(r: Reader, a: ConfNode): Obj {
  const [addr, prefix] = a.keyword.split('/');
  if (!addr || isIP(addr) === 0) r.fail(a, `virtual_ipaddress: "${a.keyword}" is not an address (or address/prefix)`);
  const vip: Obj = { address: addr };
  if (prefix !== undefined) vip.prefix = r.int({ ...a, args: [prefix] }, 0, 0, 128);
  for (let i = 0; i < a.args.length; i += 2) {
    const key = a.args[i];
    const value = a.args[i + 1];
    if (key === 'dev' && value) vip.interface = value;
    else if (key === 'label' && value) vip.label = value;
    else if (key === 'brd' || key === 'broadcast' || key === 'scope') continue;
    else r.warn(a, `virtual_ipaddress option "${key}" is not supported; ignored`);
  }
  return vip;
}

const SCHEDULERS = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos']);

function forwardingOf(r: Reader, c: ConfNode): { forwarding: string; tunnel?: Obj } {
  const kind = r.word(c).toUpperCase();
  if (kind === 'NAT') return { forwarding: 'nat' };
  if (kind === 'DR') return { forwarding: 'dr' };
  if (kind === 'TUN') {
    const i = c.args.indexOf('type');
    const type = i > 0 ? c.args[i + 1] : undefined;
    if (!type || type === 'ipip') return { forwarding: 'tun' };
    const tunnel: Obj = { type };
    const p = c.args.indexOf('port');
    if (p > 0) tunnel.port = r.int(c, p + 1, 1, 65535);
    if (c.args.includes('csum')) tunnel.checksum = 'csum';
    if (c.args.includes('remcsum')) tunnel.checksum = 'remcsum';
    return { forwarding: 'tun', tunnel };
  }
  return r.fail(c, `${c.keyword}: "${c.args[0]}" must be NAT, DR or TUN`);
}

function readVirtualServer(r: Reader, n: ConfNode): Obj {
  let match: Obj;
  let protocol = 'tcp';
  if (n.args[0] === 'fwmark') match = { kind: 'fwmark', fwmark: r.int(n, 1, 1, 0xffffffff) };
  else if (n.args[0] === 'group') return r.fail(n, 'virtual_server group is not supported: list the services one by one');
  else {
    const address = r.ip(n, 0);
    match = { kind: 'address', protocol, address, port: r.int(n, 1, 1, 65535) };
  }
  const vs: Obj = { kind: 'virtual-service' };
  const realServers: Obj[] = [];
  const checkDefaults: Obj = {};
  for (const c of r.block(n)) {
    switch (c.keyword) {
      case 'delay_loop':
        checkDefaults.interval = r.num(c);
        break;
      case 'lb_algo':
      case 'lvs_sched': {
        const s = r.word(c).toLowerCase();
        if (!SCHEDULERS.has(s)) r.fail(c, `${c.keyword}: "${s}" is not an IPVS scheduler (${[...SCHEDULERS].join(' ')})`);
        vs.scheduler = s;
        break;
      }
      case 'lb_kind':
      case 'lvs_method': {
        const f = forwardingOf(r, c);
        vs.forwarding = f.forwarding;
        if (f.tunnel) vs.tunnel = f.tunnel;
        break;
      }
      case 'protocol': {
        protocol = r.word(c).toLowerCase();
        if (!['tcp', 'udp', 'sctp'].includes(protocol)) r.fail(c, `protocol: "${c.args[0]}" must be TCP, UDP or SCTP`);
        break;
      }
      case 'persistence_timeout':
        vs.persistenceTimeout = c.args.length === 0 ? 360 : r.int(c, 0, 1);
        break;
      case 'persistence_granularity': {
        const g = r.word(c);
        vs.persistencePrefix = /^\d+$/.test(g) ? Number(g) : maskToPrefix(r, c, g);
        break;
      }
      case 'persistence_engine':
        vs.persistenceEngine = r.word(c);
        break;
      case 'ops':
        vs.onePacket = true;
        break;
      case 'quorum':
        vs.quorum = r.int(c, 0, 1);
        break;
      case 'hysteresis':
        vs.hysteresis = r.int(c, 0, 0);
        break;
      case 'alpha':
        vs.alpha = true;
        break;
      case 'inhibit_on_failure':
        vs.inhibitOnFailure = true;
        break;
      case 'ip_family':
        if (match.kind === 'fwmark') match.family = r.word(c) === 'inet6' ? 'inet6' : 'inet';
        break;
      case 'sorry_server':
        vs.sorryServer = { address: r.ip(c, 0), port: r.int(c, 1, 0, 65535), ...((vs.sorryServer as Obj | undefined)?.inhibit ? { inhibit: true } : {}) };
        break;
      case 'sorry_server_inhibit':
        vs.sorryServer = { ...((vs.sorryServer as Obj | undefined) ?? {}), inhibit: true };
        break;
      case 'virtualhost':
        checkDefaults.virtualHost = r.word(c);
        break;
      case 'retry':
      case 'nb_get_retry':
        checkDefaults.retries = r.int(c, 0, 0, 100);
        break;
      case 'delay_before_retry':
        checkDefaults.delayBeforeRetry = r.num(c);
        break;
      case 'warmup':
        checkDefaults.warmup = r.num(c);
        break;
      case 'real_server':
        realServers.push(readRealServer(r, c));
        break;
      case 'nat_mask':
        r.warn(c, 'nat_mask is obsolete (keepalived ignores it too); ignored');
        break;
      case 'ha_suspend':
      case 'omega':
      case 'quorum_up':
      case 'quorum_down':
        r.warn(c, `${c.keyword}: Fulcrum publishes quorum changes as events instead of running scripts; ignored`);
        break;
      default:
        r.warn(c, `unknown keyword "${c.keyword}" in virtual_server; ignored`);
    }
  }
  if (match.kind === 'address') match.protocol = protocol;
  vs.id = virtualServiceIdFor(match as Parameters<typeof virtualServiceIdFor>[0]);
  vs.match = match;
  // Checks defaults written at the service level apply to every check that does not set its own.
  for (const rs of realServers) {
    if (Array.isArray(rs.healthChecks)) {
      rs.healthChecks = (rs.healthChecks as Obj[]).map((hc) => {
        const out: Obj = { ...hc };
        for (const [k, val] of Object.entries(checkDefaults)) {
          if (out[k] !== undefined) continue;
          if (k === 'virtualHost' && hc.type !== 'http' && hc.type !== 'https') continue;
          if (['script', 'file'].includes(String(hc.type)) && k !== 'interval') continue;
          if (hc.type === 'file') continue;
          out[k] = val;
        }
        return out;
      });
    }
  }
  // The same checks on every real server become the service's checks, as an operator would write them.
  const first = JSON.stringify(realServers[0]?.healthChecks);
  if (realServers.length > 0 && realServers[0]?.healthChecks && realServers.every((rs) => JSON.stringify(rs.healthChecks) === first)) {
    vs.healthChecks = realServers[0].healthChecks;
    for (const rs of realServers) delete rs.healthChecks;
  }
  vs.realServers = realServers;
  return vs;
}

function maskToPrefix(r: Reader, c: ConfNode, mask: string): number {
  const parts = mask.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) r.fail(c, `persistence_granularity: "${mask}" is not a netmask`);
  const bits = parts.map((p) => p.toString(2).padStart(8, '0')).join('');
  if (!/^1*0*$/.test(bits)) r.fail(c, `persistence_granularity: "${mask}" is not a contiguous netmask`);
  return bits.indexOf('0') < 0 ? 32 : bits.indexOf('0');
}

const CHECK_TYPES: Record<string, string> = {
  TCP_CHECK: 'tcp',
  HTTP_GET: 'http',
  SSL_GET: 'https',
  SMTP_CHECK: 'smtp',
  DNS_CHECK: 'dns',
  UDP_CHECK: 'udp',
  PING_CHECK: 'icmp',
  MISC_CHECK: 'script',
  FILE_CHECK: 'file',
};

function readRealServer(r: Reader, n: ConfNode): Obj {
  const rs: Obj = { address: r.ip(n, 0), port: r.int(n, 1, 0, 65535) };
  const checks: Obj[] = [];
  for (const c of n.children ?? []) {
    const type = CHECK_TYPES[c.keyword];
    if (type) {
      checks.push(readCheck(r, c, type));
      continue;
    }
    switch (c.keyword) {
      case 'weight':
        rs.weight = r.int(c, 0, 0, 65535);
        break;
      case 'uthreshold':
        rs.upperThreshold = r.int(c, 0, 0);
        break;
      case 'lthreshold':
        rs.lowerThreshold = r.int(c, 0, 0);
        break;
      case 'lb_kind':
      case 'lvs_method': {
        const f = forwardingOf(r, c);
        rs.forwarding = f.forwarding;
        if (f.tunnel) rs.tunnel = f.tunnel;
        break;
      }
      case 'inhibit_on_failure':
        r.warn(c, 'inhibit_on_failure per real server: Fulcrum sets it per virtual service; ignored');
        break;
      default:
        if (NOTIFY.test(c.keyword)) r.warn(c, `${c.keyword}: Fulcrum publishes health changes as events instead of running scripts; ignored`);
        else r.warn(c, `unknown keyword "${c.keyword}" in real_server; ignored`);
    }
  }
  if (checks.length > 0) rs.healthChecks = checks;
  return rs;
}

function readCheck(r: Reader, n: ConfNode, type: string): Obj {
  const hc: Obj = { type };
  const urls: Obj[] = [];
  for (const c of n.children ?? []) {
    switch (c.keyword) {
      case 'connect_timeout': {
        const t = r.num(c);
        // keepalived logs "invalid" for 0 and keeps its default of 5 s.
        if (t === 0) r.warn(c, 'connect_timeout 0 is invalid (keepalived keeps its default of 5 s); the default is used');
        else hc.connectTimeout = t;
        break;
      }
      case 'connect_port':
        hc.connectPort = r.int(c, 0, 1, 65535);
        break;
      case 'connect_ip':
        hc.connectIp = r.ip(c);
        break;
      case 'bindto':
        hc.bindTo = r.ip(c);
        break;
      case 'bind_port':
        hc.bindPort = r.int(c, 0, 1, 65535);
        break;
      case 'bind_if':
        hc.bindInterface = r.word(c);
        break;
      case 'fwmark':
        hc.fwmark = r.int(c, 0, 1);
        break;
      case 'warmup':
        hc.warmup = r.num(c);
        break;
      case 'delay_loop':
        hc.interval = r.num(c);
        break;
      case 'retry':
      case 'nb_get_retry':
        hc.retries = r.int(c, 0, 0, 100);
        break;
      case 'delay_before_retry':
        hc.delayBeforeRetry = r.num(c);
        break;
      case 'url':
        urls.push(readUrl(r, c));
        break;
      case 'http_protocol':
        hc.httpVersion = r.word(c);
        break;
      case 'virtualhost':
        hc.virtualHost = r.word(c);
        break;
      case 'enable_sni':
        hc.sni = true;
        break;
      case 'fast_recovery':
        hc.fastRecovery = true;
        break;
      case 'helo_name':
        hc.heloName = r.word(c);
        break;
      case 'type':
        hc.queryType = r.word(c).toUpperCase();
        break;
      case 'name':
        hc.name = r.word(c);
        break;
      case 'misc_path': {
        const words = c.args.join(' ').trim().split(/\s+/);
        hc.path = words[0];
        if (words.length > 1) hc.args = words.slice(1);
        break;
      }
      case 'misc_timeout':
        hc.timeout = r.num(c);
        break;
      case 'misc_dynamic':
        hc.dynamicWeight = true;
        break;
      case 'user':
        hc.user = r.word(c);
        break;
      case 'payload':
        hc.payload = c.args.join('');
        break;
      case 'require_reply':
        hc.requireReply = c.args.length === 0 ? true : c.args.join('');
        break;
      case 'min_reply_length':
        hc.minReplyLength = r.int(c, 0, 0);
        break;
      case 'max_reply_length':
        hc.maxReplyLength = r.int(c, 0, 0);
        break;
      case 'track_file':
        hc.path = r.word(c);
        break;
      default:
        r.warn(c, `unknown keyword "${c.keyword}" in ${n.keyword}; ignored`);
    }
  }
  if (urls.length > 0) hc.urls = urls;
  return hc;
}

function readUrl(r: Reader, n: ConfNode): Obj {
  const u: Obj = {};
  const codes: (string | number)[] = [];
  for (const c of r.block(n)) {
    switch (c.keyword) {
      case 'path':
        u.path = r.word(c);
        break;
      case 'digest':
        u.digest = r.word(c);
        break;
      case 'status_code':
        for (const a of c.args) codes.push(/^\d+$/.test(a) ? Number(a) : a);
        break;
      case 'virtualhost':
        u.virtualHost = r.word(c);
        break;
      case 'regex':
        u.regex = c.args.join(' ');
        break;
      case 'regex_no_match':
        u.regexNoMatch = true;
        break;
      default:
        r.warn(c, `unknown keyword "${c.keyword}" in url; ignored`);
    }
  }
  if (codes.length > 0) u.statusCodes = codes;
  return u;
}

export { KeepalivedSyntaxError };
