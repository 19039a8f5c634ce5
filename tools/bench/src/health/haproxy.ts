import { connect } from 'node:net';

/** An HAProxy configuration that TCP-checks `count` servers on 127.0.0.1 from `base`, at `intervalS`, like ours. */
export function haproxyConfig(opts: { base: number; count: number; intervalS: number; socket: string; frontendPort: number }): string {
  const lines = [
    'global',
    // Low, so that HAProxy's descriptor table (2 x maxconn + the servers) fits the host's limit of 20,000.
    '  maxconn 1000',
    '  nbthread 1',
    `  stats socket ${opts.socket} mode 600 level admin`,
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    '  timeout client 10s',
    '  timeout server 10s',
    '  timeout check 1s',
    `  default-server check inter ${Math.round(opts.intervalS * 1000)}ms fall 1 rise 1`,
    'frontend fe',
    `  bind 127.0.0.1:${opts.frontendPort}`,
    '  default_backend b0',
  ];
  const perBackend = 100;
  for (let first = 0; first < opts.count; first += perBackend) {
    lines.push(`backend b${first / perBackend}`);
    for (let i = first; i < Math.min(first + perBackend, opts.count); i++) lines.push(`  server s${i} 127.0.0.1:${opts.base + i}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Sends one command to HAProxy's stats socket and returns the answer. */
export function haproxyCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.write(`${command}\n`);
  });
}

/** From `show stat`: how many UP->DOWN transitions the servers had, and how many are not UP now. */
export function downCounts(csv: string): { transitions: number; notUp: number; servers: number } {
  const [header, ...rows] = csv.trim().split('\n');
  const cols = (header ?? '').replace(/^# /, '').split(',');
  const iType = cols.indexOf('type');
  const iDown = cols.indexOf('chkdown');
  const iStatus = cols.indexOf('status');
  let transitions = 0;
  let notUp = 0;
  let servers = 0;
  for (const row of rows) {
    const f = row.split(',');
    if (f[iType] !== '2') continue; // 2 = server
    servers += 1;
    transitions += Number(f[iDown] ?? 0);
    if (!(f[iStatus] ?? '').startsWith('UP')) notUp += 1;
  }
  return { transitions, notUp, servers };
}
