import {
  type DesiredObject,
  type HealthCheck,
  type RealServer,
  type TunnelSpec,
  type VirtualService,
  type VrrpInstance,
  healthChecksOf,
} from '@fulcrum/schemas';

// Fulcrum desired state -> keepalived.conf for one director: its VRRP instances (with its priority) and every
// virtual service. What keepalived cannot say (session stores, replication clusters, hosts) is left out; the
// checks of a service are written on each real server, as keepalived wants them.

export interface PrintOptions {
  /** The director the file is for. */
  host: string;
}

const q = (s: string) => (/[\s{}!#"]/.test(s) ? `"${s}"` : s);

function tunnelWords(t: TunnelSpec | undefined): string {
  if (!t || t.type === 'ipip') return '';
  return ` type ${t.type}${t.port !== undefined ? ` port ${t.port}` : ''}${t.checksum !== 'nocsum' ? ` ${t.checksum}` : ''}`;
}

const KEYWORD: Record<HealthCheck['type'], string> = {
  tcp: 'TCP_CHECK',
  http: 'HTTP_GET',
  https: 'SSL_GET',
  smtp: 'SMTP_CHECK',
  dns: 'DNS_CHECK',
  udp: 'UDP_CHECK',
  icmp: 'PING_CHECK',
  script: 'MISC_CHECK',
  file: 'FILE_CHECK',
};

function checkLines(c: HealthCheck): string[] {
  const out: string[] = [];
  const add = (k: string, v: unknown) => {
    if (v !== undefined && v !== false) out.push(v === true ? k : `${k} ${String(v)}`);
  };
  if (c.type === 'file') {
    add('track_file', c.path);
    return out;
  }
  if (c.type === 'script') {
    add('misc_path', q([c.path, ...c.args].join(' ')));
    add('delay_loop', c.interval);
    add('misc_timeout', c.timeout);
    add('retry', c.retries);
    add('delay_before_retry', c.delayBeforeRetry);
    add('warmup', c.warmup);
    add('misc_dynamic', c.dynamicWeight);
    add('user', c.user);
    return out;
  }
  add('delay_loop', c.interval);
  add('connect_timeout', c.connectTimeout);
  add('retry', c.retries);
  add('delay_before_retry', c.delayBeforeRetry);
  add('warmup', c.warmup);
  add('connect_ip', c.connectIp);
  add('connect_port', c.connectPort);
  add('bindto', c.bindTo);
  add('bind_port', c.bindPort);
  add('bind_if', c.bindInterface);
  add('fwmark', c.fwmark);
  if (c.type === 'http' || c.type === 'https') {
    add('http_protocol', c.httpVersion);
    add('virtualhost', c.virtualHost);
    add('fast_recovery', c.fastRecovery);
    if (c.type === 'https') add('enable_sni', c.sni);
    for (const u of c.urls) {
      out.push('url {');
      out.push(`  path ${q(u.path)}`);
      if (u.digest) out.push(`  digest ${u.digest}`);
      out.push(`  status_code ${u.statusCodes.join(' ')}`);
      if (u.virtualHost) out.push(`  virtualhost ${u.virtualHost}`);
      if (u.regex) out.push(`  regex ${q(u.regex)}`);
      if (u.regexNoMatch) out.push('  regex_no_match');
      out.push('}');
    }
  }
  if (c.type === 'smtp') add('helo_name', c.heloName);
  if (c.type === 'dns') {
    add('type', c.queryType);
    add('name', c.name);
  }
  if (c.type === 'udp') {
    add('payload', c.payload);
    if (c.requireReply !== false) add('require_reply', c.requireReply === true ? true : c.requireReply);
    add('min_reply_length', c.minReplyLength);
    add('max_reply_length', c.maxReplyLength);
  }
  return out;
}

const indent = (lines: string[], by = '    ') => lines.map((l) => `${by}${l}`);

function realServerLines(vs: VirtualService, rs: RealServer): string[] {
  const body: string[] = [`weight ${rs.weight}`];
  if (rs.forwarding !== undefined && rs.forwarding !== vs.forwarding) body.push(`lvs_method ${rs.forwarding.toUpperCase()}${tunnelWords(rs.tunnel)}`);
  if (rs.upperThreshold) body.push(`uthreshold ${rs.upperThreshold}`);
  if (rs.lowerThreshold) body.push(`lthreshold ${rs.lowerThreshold}`);
  for (const c of healthChecksOf(vs, rs)) body.push(`${KEYWORD[c.type]} {`, ...indent(checkLines(c), '  '), '}');
  return [`real_server ${rs.address} ${rs.port} {`, ...indent(body, '  '), '}'];
}

function virtualServerLines(vs: VirtualService): string[] {
  const head = vs.match.kind === 'address' ? `virtual_server ${vs.match.address} ${vs.match.port} {` : `virtual_server fwmark ${vs.match.fwmark} {`;
  const body: string[] = [];
  if (vs.description) body.push(`! ${vs.description.replace(/\n/g, ' ')}`);
  if (vs.match.kind === 'fwmark') body.push(`ip_family ${vs.match.family}`);
  body.push(`lvs_sched ${vs.scheduler}`, `lvs_method ${vs.forwarding.toUpperCase()}${tunnelWords(vs.tunnel)}`);
  if (vs.match.kind === 'address') body.push(`protocol ${vs.match.protocol.toUpperCase()}`);
  if (vs.persistenceTimeout !== undefined) body.push(`persistence_timeout ${vs.persistenceTimeout}`);
  if (vs.persistencePrefix !== undefined) body.push(`persistence_granularity ${vs.persistencePrefix}`);
  if (vs.persistenceEngine) body.push(`persistence_engine ${vs.persistenceEngine}`);
  if (vs.onePacket) body.push('ops');
  body.push(`quorum ${vs.quorum}`, `hysteresis ${vs.hysteresis}`);
  if (vs.alpha) body.push('alpha');
  if (vs.inhibitOnFailure) body.push('inhibit_on_failure');
  if (vs.sorryServer) {
    body.push(`sorry_server ${vs.sorryServer.address} ${vs.sorryServer.port}`);
    if (vs.sorryServer.inhibit) body.push('sorry_server_inhibit');
  }
  for (const rs of vs.realServers) body.push(...realServerLines(vs, rs));
  return [head, ...indent(body, '  '), '}'];
}

function instanceLines(v: VrrpInstance, host: string): string[] {
  const mine = v.priorities[host];
  const top = Math.max(...Object.values(v.priorities));
  const body: string[] = [
    `state ${mine === top ? 'MASTER' : 'BACKUP'}`,
    `interface ${v.interface}`,
    `virtual_router_id ${v.virtualRouterId}`,
    `priority ${mine}`,
    `version ${v.version}`,
    `advert_int ${v.advertInterval}`,
  ];
  body.push(v.preempt ? 'preempt' : 'nopreempt');
  if (v.preemptDelay) body.push(`preempt_delay ${v.preemptDelay}`);
  if (v.authentication) body.push('authentication {', '  auth_type PASS', `  auth_pass ${v.authentication.password}`, '}');
  body.push('virtual_ipaddress {');
  for (const a of v.virtualAddresses) {
    body.push(`  ${a.address}${a.prefix !== undefined ? `/${a.prefix}` : ''}${a.interface ? ` dev ${a.interface}` : ''}${a.label ? ` label ${a.label}` : ''}`);
  }
  body.push('}');
  if (v.unicastPeers.length) body.push('unicast_peer {', ...v.unicastPeers.map((p) => `  ${p}`), '}');
  if (v.trackInterfaces.length) body.push('track_interface {', ...v.trackInterfaces.map((t) => `  ${t.interface}${t.weight ? ` weight ${t.weight}` : ''}`), '}');
  if (v.trackScripts.length) body.push('track_script {', ...v.trackScripts.map((t) => `  ${t.name}`), '}');
  return [`vrrp_instance ${v.id} {`, ...indent(body, '  '), '}'];
}

/** keepalived.conf for `host` from the parsed (schema output) desired state. */
export function printKeepalivedConf(objects: readonly DesiredObject[], opts: PrintOptions): string {
  const lines: string[] = ['! keepalived.conf written by Fulcrum', 'global_defs {', `  router_id ${opts.host}`, '}'];
  const instances = objects.filter((o): o is VrrpInstance & { kind: 'vrrp-instance' } => o.kind === 'vrrp-instance' && opts.host in o.priorities);
  const scripts = new Map<string, VrrpInstance['trackScripts'][number]>();
  for (const v of instances) for (const s of v.trackScripts) scripts.set(s.name, s);
  for (const s of scripts.values()) {
    const body = [`script ${q([s.path, ...s.args].join(' '))}`, `interval ${s.interval}`];
    if (s.timeout !== undefined) body.push(`timeout ${s.timeout}`);
    body.push(`weight ${s.weight}${s.reverse ? ' reverse' : ''}`, `rise ${s.rise}`, `fall ${s.fall}`);
    if (s.initFail) body.push('init_fail');
    lines.push(`vrrp_script ${s.name} {`, ...indent(body, '  '), '}');
  }
  const groups = new Map<string, string[]>();
  for (const v of instances) if (v.syncGroup) groups.set(v.syncGroup, [...(groups.get(v.syncGroup) ?? []), v.id]);
  for (const [g, members] of groups) lines.push(`vrrp_sync_group ${g} {`, '  group {', ...members.map((m) => `    ${m}`), '  }', '}');
  for (const v of instances) lines.push(...instanceLines(v, opts.host));
  for (const o of objects) if (o.kind === 'virtual-service') lines.push(...virtualServerLines(o));
  return `${lines.join('\n')}\n`;
}
