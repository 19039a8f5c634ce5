// Output for people: an ipvsadm -Ln-like table with health and VRRP state, diffs of planned changes, problems.
// Colour only when asked or on a terminal (and NO_COLOR unset); piped output is plain.

export interface Paint {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
export const colours: Paint = { red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
export const plain: Paint = { red: (s) => s, green: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s };

export function choosePaint(mode: 'auto' | 'always' | 'never', isTty: boolean, env: NodeJS.ProcessEnv): Paint {
  if (mode === 'always') return colours;
  if (mode === 'never') return plain;
  return isTty && !env.NO_COLOR ? colours : plain;
}

type Obj = Record<string, unknown>;
interface StoredVs {
  key: string;
  revision: number;
  object: {
    id: string;
    match: { kind: 'address'; protocol: string; address: string; port: number } | { kind: 'fwmark'; fwmark: number; family: string };
    scheduler: string;
    forwarding: string;
    persistenceTimeout?: number;
    realServers: { address: string; port: number; weight: number; forwarding?: string }[];
  };
}
interface Status {
  virtualServices: { id: string; realServers: { address: string; port: number; health: { host: string; state: string; ageSeconds: number }[] }[] }[];
  vrrp: { instance: string; directors: { host: string; state: string; priority: number; ageSeconds: number }[] }[];
}

const FORWARD: Record<string, string> = { nat: 'Masq', dr: 'Route', tun: 'Tunnel' };
const hostPort = (a: string, p: number) => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
const pad = (s: string, n: number) => (s.length >= n ? `${s} ` : s + ' '.repeat(n - s.length));

/** The virtual services as `ipvsadm -Ln` shows them, with each real server's health per director and VRRP state. */
export function renderList(services: StoredVs[], status: Status | null, vrrp: Obj[], paint: Paint): string {
  const lines: string[] = [];
  lines.push('IP Virtual Server (desired state)');
  lines.push('Prot LocalAddress:Port Scheduler Flags');
  lines.push('  -> RemoteAddress:Port           Forward Weight Health');
  for (const { object: vs } of services) {
    const m = vs.match;
    const head = m.kind === 'address' ? `${pad(m.protocol.toUpperCase(), 4)} ${pad(hostPort(m.address, m.port), 17)}` : `FWM  ${pad(String(m.fwmark), 17)}`;
    lines.push(`${head} ${vs.scheduler}${vs.persistenceTimeout ? ` persistent ${vs.persistenceTimeout}` : ''}  ${paint.dim(`[${vs.id}]`)}`);
    const st = status?.virtualServices.find((v) => v.id === vs.id);
    for (const rs of vs.realServers) {
      const health = st?.realServers.find((r) => r.address === rs.address && r.port === rs.port)?.health ?? [];
      const text =
        health.length === 0
          ? paint.dim('unknown')
          : health.map((h) => `${h.state === 'up' ? paint.green('up') : paint.red(h.state)} ${paint.dim(`(${h.host}, ${Math.round(h.ageSeconds)}s)`)}`).join(' ');
      lines.push(`  -> ${pad(hostPort(rs.address, rs.port), 28)} ${pad(FORWARD[rs.forwarding ?? vs.forwarding] ?? '?', 7)} ${pad(String(rs.weight), 6)} ${text}`);
    }
  }
  if (vrrp.length > 0) {
    lines.push('', 'VRRP');
    for (const v of vrrp) {
      const o = v.object as { id: string; interface: string; virtualRouterId: number; virtualAddresses: { address: string }[]; priorities: Record<string, number> };
      const seen = status?.vrrp.find((x) => x.instance === o.id)?.directors ?? [];
      const per = Object.entries(o.priorities).map(([host, prio]) => {
        const s = seen.find((d) => d.host === host);
        const state = s ? (s.state === 'master' ? paint.green('MASTER') : s.state === 'fault' ? paint.red('FAULT') : s.state.toUpperCase()) : paint.dim('unknown');
        return `${host} ${state} (${prio})`;
      });
      lines.push(`${o.id} ${o.interface} vrid ${o.virtualRouterId} ${o.virtualAddresses.map((a) => a.address).join(',')}: ${per.join(', ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Field-level differences between two objects: `path: before -> after`. */
export function fieldDiff(before: unknown, after: unknown, path = ''): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => fieldDiff(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((b, i) => fieldDiff(b, after[i], `${path}[${i}]`));
  }
  return [`${path}: ${before === undefined ? '(absent)' : JSON.stringify(before)} -> ${after === undefined ? '(absent)' : JSON.stringify(after)}`];
}

export interface PlannedChange {
  key: string;
  action: 'create' | 'update' | 'delete' | 'unchanged';
  before?: unknown;
  after?: unknown;
}

export function renderPlan(changes: PlannedChange[], paint: Paint): string {
  const out: string[] = [];
  for (const c of changes) {
    if (c.action === 'unchanged') continue;
    if (c.action === 'create') out.push(paint.green(`+ ${c.key}`));
    else if (c.action === 'delete') out.push(paint.red(`- ${c.key}`));
    else {
      out.push(paint.yellow(`~ ${c.key}`));
      for (const line of fieldDiff(c.before, c.after)) out.push(`    ${line}`);
    }
  }
  const n = (a: string) => changes.filter((c) => c.action === a).length;
  out.push(`${n('create')} to create, ${n('update')} to change, ${n('delete')} to delete, ${n('unchanged')} unchanged`);
  return `${out.join('\n')}\n`;
}
