import type { z } from 'zod';
import type { desiredObject } from '../desired.js';

// The seed documents' hand-built setups (shared/seeds/*.txt) written as Fulcrum desired-state objects, exactly as
// an operator would write them (defaults left out). Specs of this and other projects use them as realistic data.
// The addresses are the seeds' own private/example addresses; they are only data here.

export type DesiredInput = z.input<typeof desiredObject>;

/**
 * 000: LVS-DR with a keepalived master/backup pair, VIP 192.168.80.150, two httpd real servers, wrr,
 * persistence 50 s, TCP_CHECK (delay_loop 6, nb_get_retry 3, delay_before_retry 3, connect_port 80).
 * The first real server's "connect_timeout 0" is invalid in keepalived (it logs and keeps the 5 s default), so
 * it is left out here; the second server's 10 s is kept as its own check.
 */
export const seed000: DesiredInput[] = [
  { kind: 'host', name: 'director1', roles: ['director'] },
  { kind: 'host', name: 'director2', roles: ['director'] },
  { kind: 'host', name: 'web1', roles: ['realserver'], address: '192.168.80.139' },
  { kind: 'host', name: 'web2', roles: ['realserver'], address: '192.168.80.140' },
  {
    kind: 'vrrp-instance',
    id: 'vi-1',
    interface: 'eth0',
    virtualRouterId: 51,
    priorities: { director1: 100, director2: 99 },
    advertInterval: 1,
    authentication: { type: 'pass', password: '1111' },
    virtualAddresses: [{ address: '192.168.80.150' }],
  },
  {
    kind: 'virtual-service',
    id: 'web',
    match: { kind: 'address', protocol: 'tcp', address: '192.168.80.150', port: 80 },
    scheduler: 'wrr',
    forwarding: 'dr',
    persistenceTimeout: 50,
    healthChecks: [{ type: 'tcp', interval: 6, retries: 3, delayBeforeRetry: 3, connectPort: 80 }],
    realServers: [
      { address: '192.168.80.139', port: 80, weight: 3 },
      {
        address: '192.168.80.140',
        port: 80,
        weight: 3,
        healthChecks: [{ type: 'tcp', interval: 6, connectTimeout: 10, retries: 3, delayBeforeRetry: 3, connectPort: 80 }],
      },
    ],
  },
];

/**
 * 001: seven hosts: LVS1/LVS2 (keepalived, VIP 192.168.60.110), nginx1/2 (static), Tomcat1/2 (dynamic, MySQL
 * master on Tomcat1 and slave on Tomcat2), Redis for shared sessions. The article's keepalived.conf is a
 * screenshot; this is the setup its text describes.
 */
export const seed001: DesiredInput[] = [
  { kind: 'host', name: 'lvs1', roles: ['director'], address: '192.168.60.111' },
  { kind: 'host', name: 'lvs2', roles: ['director'], address: '192.168.60.112' },
  { kind: 'host', name: 'nginx1', roles: ['realserver'], address: '192.168.60.101' },
  { kind: 'host', name: 'nginx2', roles: ['realserver'], address: '192.168.60.102' },
  { kind: 'host', name: 'tomcat1', roles: ['realserver', 'data'], address: '192.168.60.103' },
  { kind: 'host', name: 'tomcat2', roles: ['realserver', 'data'], address: '192.168.60.104' },
  { kind: 'host', name: 'redis', roles: ['data'], address: '192.168.60.105' },
  {
    kind: 'vrrp-instance',
    id: 'vi-1',
    interface: 'ens33',
    virtualRouterId: 51,
    priorities: { lvs1: 100, lvs2: 90 },
    virtualAddresses: [{ address: '192.168.60.110', prefix: 24 }],
    trackVirtualServices: [{ virtualService: 'www' }],
  },
  {
    kind: 'virtual-service',
    id: 'www',
    match: { kind: 'address', protocol: 'tcp', address: '192.168.60.110', port: 80 },
    scheduler: 'rr',
    forwarding: 'dr',
    healthChecks: [{ type: 'http', interval: 3, urls: [{ path: '/default.html' }] }],
    realServers: [
      { address: '192.168.60.101', port: 80 },
      { address: '192.168.60.102', port: 80 },
    ],
  },
  {
    kind: 'virtual-service',
    id: 'mysql-read',
    match: { kind: 'address', protocol: 'tcp', address: '192.168.60.110', port: 3306 },
    scheduler: 'wlc',
    forwarding: 'dr',
    healthChecks: [{ type: 'tcp', interval: 2 }],
    realServers: [{ address: '192.168.60.104', port: 3306 }],
  },
  {
    kind: 'session-store',
    id: 'sessions',
    hosts: ['tomcat1', 'tomcat2'],
    upstream: { mode: 'direct', master: { address: '192.168.60.105' } },
  },
  {
    kind: 'replication-cluster',
    id: 'mysql',
    engine: 'mysql',
    nodes: [
      { name: 'tomcat1', address: '192.168.60.103', port: 3306, role: 'primary' },
      { name: 'tomcat2', address: '192.168.60.104', port: 3306, role: 'replica' },
    ],
    credentials: { user: 'slave', password: '123' },
    readPool: { virtualService: 'mysql-read' },
    monitorHosts: ['tomcat1'],
  },
];

/**
 * 002: LVS + keepalived + nginx on four VMs (master .128, backup .129, nginx .130/.131, VIP .200) and the
 * layer 3/4/5 checks it explains: ICMP, TCP, HTTP GET with a genhash MD5 digest, SSL_GET, MISC_CHECK.
 */
export const seed002: DesiredInput[] = [
  { kind: 'host', name: 'keepalived-master', roles: ['director'], address: '192.168.1.128' },
  { kind: 'host', name: 'keepalived-backup', roles: ['director'], address: '192.168.1.129' },
  { kind: 'host', name: 'nginx1', roles: ['realserver'], address: '192.168.1.130' },
  { kind: 'host', name: 'nginx2', roles: ['realserver'], address: '192.168.1.131' },
  {
    kind: 'vrrp-instance',
    id: 'vi-1',
    interface: 'ens33',
    virtualRouterId: 51,
    priorities: { 'keepalived-master': 100, 'keepalived-backup': 90 },
    virtualAddresses: [{ address: '192.168.1.200' }],
  },
  {
    kind: 'virtual-service',
    id: 'nginx-http',
    match: { kind: 'address', protocol: 'tcp', address: '192.168.1.200', port: 80 },
    scheduler: 'wrr',
    forwarding: 'dr',
    healthChecks: [
      { type: 'icmp', interval: 5 },
      {
        type: 'http',
        interval: 5,
        urls: [{ path: '/index.html', digest: '9B3A0C85A887A256D6939DA88AABD8CD', statusCodes: [200] }],
      },
      { type: 'script', interval: 10, path: '/etc/fulcrum/checks/nginx-status.sh', args: ['--quiet'], timeout: 5 },
    ],
    realServers: [
      { address: '192.168.1.130', port: 80 },
      { address: '192.168.1.131', port: 80 },
    ],
  },
  {
    kind: 'virtual-service',
    id: 'nginx-https',
    match: { kind: 'address', protocol: 'tcp', address: '192.168.1.200', port: 443 },
    scheduler: 'wrr',
    forwarding: 'dr',
    healthChecks: [{ type: 'https', interval: 5, urls: [{ path: '/' }], sni: true, virtualHost: 'www.example.com' }],
    realServers: [
      { address: '192.168.1.130', port: 443 },
      { address: '192.168.1.131', port: 443 },
    ],
  },
];

/** 003: LVS-NAT with ipvsadm (`-A -t 192.168.50.200:80 -s rr`, `-m -w 1`, `-m -w 2`), later edited to wlc, 1 and 5. */
export const seed003Nat: DesiredInput = {
  kind: 'virtual-service',
  id: 'nat-web',
  match: { kind: 'address', protocol: 'tcp', address: '192.168.50.200', port: 80 },
  scheduler: 'rr',
  forwarding: 'nat',
  realServers: [
    { address: '192.168.58.2', port: 80, weight: 1 },
    { address: '192.168.58.3', port: 80, weight: 2 },
  ],
};

/**
 * 003: keepalived for LVS+nginx+Tomcat: VI_1 priority 150 with VIP "192.168.122.254/24 eth1", virtual_server
 * 192.168.100.215 80 (delay_loop 3, rr, DR, TCP_CHECK connect_timeout 10, nb_get_retry 3, delay_before_retry 3).
 */
export const seed003Keepalived: DesiredInput[] = [
  { kind: 'host', name: 'director1', roles: ['director'], address: '192.168.100.115' },
  {
    kind: 'vrrp-instance',
    id: 'vi-1',
    interface: 'eth0',
    virtualRouterId: 51,
    priorities: { director1: 150 },
    advertInterval: 1,
    authentication: { type: 'pass', password: '1111' },
    virtualAddresses: [{ address: '192.168.122.254', prefix: 24, interface: 'eth1' }],
  },
  {
    kind: 'virtual-service',
    id: 'squid',
    match: { kind: 'address', protocol: 'tcp', address: '192.168.100.215', port: 80 },
    scheduler: 'rr',
    forwarding: 'dr',
    healthChecks: [{ type: 'tcp', interval: 3, connectPort: 80, connectTimeout: 10, retries: 3, delayBeforeRetry: 3 }],
    realServers: [
      { address: '192.168.100.113', port: 80, weight: 1 },
      { address: '192.168.100.114', port: 80, weight: 1 },
    ],
  },
];

/**
 * 003: Piranha's lvs.cf: firewall mark 81 (iptables mangle on 211.144.137.131:80), wlc, NAT, five nodes, a
 * send/expect check ("GET / HTTP/1.0", expect "HTTP") every keepalive = 6 s, re-entry after 30 s (5 successes).
 */
export const seed003Piranha: DesiredInput = {
  kind: 'virtual-service',
  id: 'coolh',
  match: { kind: 'fwmark', fwmark: 81 },
  scheduler: 'wlc',
  forwarding: 'nat',
  inhibitOnFailure: false,
  healthChecks: [{ type: 'http', interval: 6, rise: 5, httpVersion: '1.0', urls: [{ path: '/', statusCodes: ['100-599'] }] }],
  realServers: ['192.168.70.11', '192.168.70.21', '192.168.70.31', '192.168.70.41', '192.168.70.51'].map((address) => ({
    address,
    port: 80,
    weight: 1,
  })),
};

/** 004: the three-tier walkthrough: `ipvsadm -A -t 192.168.1.254:80 -s rr` and `-a ... -r 192.168.1.100 -m -w 1`. */
export const seed004: DesiredInput = {
  kind: 'virtual-service',
  id: 'tier-web',
  match: { kind: 'address', protocol: 'tcp', address: '192.168.1.254', port: 80 },
  scheduler: 'rr',
  forwarding: 'nat',
  realServers: [{ address: '192.168.1.100', port: 80, weight: 1 }],
};
