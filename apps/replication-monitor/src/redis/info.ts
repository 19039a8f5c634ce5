import type { ReplicaView } from '../monitor/sample.js';

// `INFO replication` text -> fields. Redis 5+ says master_*/slave* in this section (no "primary" spelling yet
// in 7.0), and lists a master's replicas as `slaveN:ip=..,port=..,state=online,offset=..,lag=..`.

export interface RedisReplicationInfo {
  role: 'master' | 'slave';
  masterReplOffset: number | null;
  connectedReplicas: number;
  /** The replicas a master lists (address, port, state, acknowledged offset, seconds since their last ack). */
  replicas: { address: string; port: number; state: string; offset: number; lag: number }[];
  replica: ReplicaView | null;
}

function fields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

const num = (v: string | undefined): number | null => (v === undefined || v === '' || !Number.isFinite(Number(v)) ? null : Number(v));

export function parseReplicationInfo(text: string): RedisReplicationInfo {
  const f = fields(text);
  const role = f.get('role') === 'slave' ? 'slave' : 'master';
  const replicas: RedisReplicationInfo['replicas'] = [];
  for (const [k, v] of f) {
    if (!/^slave\d+$/.test(k)) continue;
    const kv = new Map(v.split(',').map((p) => p.split('=', 2) as [string, string]));
    replicas.push({
      address: kv.get('ip') ?? '',
      port: num(kv.get('port')) ?? 0,
      state: kv.get('state') ?? 'unknown',
      offset: num(kv.get('offset')) ?? 0,
      lag: num(kv.get('lag')) ?? 0,
    });
  }
  let replica: ReplicaView | null = null;
  if (role === 'slave') {
    const up = f.get('master_link_status') === 'up';
    const downFor = num(f.get('master_link_down_since_seconds'));
    replica = {
      sourceHost: f.get('master_host') ?? '',
      sourcePort: num(f.get('master_port')) ?? 6379,
      ioRunning: up,
      sqlRunning: null,
      secondsBehind: null,
      lastIoError: up ? null : `link to master ${f.get('master_host') ?? '?'}:${f.get('master_port') ?? '?'} down${downFor !== null && downFor >= 0 ? ` for ${downFor} s` : ''}${f.get('master_sync_in_progress') === '1' ? ' (sync in progress)' : ''}`,
      lastSqlError: null,
      offset: num(f.get('slave_repl_offset')),
    };
  }
  return {
    role,
    masterReplOffset: num(f.get('master_repl_offset')),
    connectedReplicas: num(f.get('connected_slaves')) ?? 0,
    replicas,
    replica,
  };
}
