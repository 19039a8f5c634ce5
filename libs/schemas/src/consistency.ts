import type { DesiredObject, DesiredOf } from './desired.js';
import { idOf, keyOf } from './desired.js';
import type { HostRole } from './host.js';
import type { FormattedIssue } from './issues.js';
import { formatPath } from './issues.js';
import { inPrefixes, ipFamily } from './primitives.js';
import { forwardingOf } from './virtual-service.js';

// Rules that span objects of the desired state (each object alone is checked by its schema): references to
// hosts and virtual services exist, and two objects do not claim the same thing. config-api runs this on the state
// a write would produce; paths start with the object's key, e.g. 'vrrp.vi-1.priorities.director1'.

const byKind = <K extends DesiredObject['kind']>(objects: DesiredObject[], kind: K): DesiredOf<K>[] =>
  objects.filter((o): o is DesiredOf<K> => o.kind === kind);

function issueAt(obj: DesiredObject, path: (string | number)[], message: string): FormattedIssue {
  const rest = formatPath(path);
  return { path: rest === '' ? keyOf(obj) : rest.startsWith('[') ? `${keyOf(obj)}${rest}` : `${keyOf(obj)}.${rest}`, message };
}

const matchKey = (vs: DesiredOf<'virtual-service'>): string =>
  vs.match.kind === 'address' ? `${vs.match.protocol} ${vs.match.address} port ${vs.match.port}` : `fwmark ${vs.match.fwmark} (${vs.match.family})`;

/** Problems between objects of a complete desired state; empty when it is consistent. */
export function checkDesiredState(objects: DesiredObject[]): FormattedIssue[] {
  const issues: FormattedIssue[] = [];
  const keys = new Set<string>();
  for (const o of objects) {
    const key = keyOf(o);
    if (keys.has(key)) issues.push({ path: key, message: `is defined twice` });
    keys.add(key);
  }

  const hosts = new Map(byKind(objects, 'host').map((h) => [h.name, h]));
  const services = new Map(byKind(objects, 'virtual-service').map((v) => [v.id, v]));
  const needHost = (obj: DesiredObject, path: (string | number)[], name: string, role: HostRole) => {
    const h = hosts.get(name);
    if (!h) issues.push(issueAt(obj, path, `host "${name}" is not in the inventory`));
    else if (!h.roles.includes(role)) issues.push(issueAt(obj, path, `host "${name}" does not have the ${role} role`));
  };

  const matches = new Map<string, string>();
  for (const vs of services.values()) {
    const m = matchKey(vs);
    const other = matches.get(m);
    if (other !== undefined) issues.push(issueAt(vs, ['match'], `${m} is already virtual service "${other}"`));
    else matches.set(m, vs.id);
  }

  // Direct routing rewrites only the destination MAC: every director that may hold the VIP must reach each DR
  // real server on one of its own segments. Checked against the directors that list their networks.
  const segmented = [...hosts.values()].filter((h) => h.roles.includes('director') && h.networks !== undefined);
  // Runs on every API write: with no director listing networks (an imported keepalived.conf) there is nothing to check.
  for (const vs of segmented.length === 0 ? [] : services.values()) {
    const targets = [...vs.realServers.map((rs, i) => ({ d: rs, path: ['realServers', i, 'address'] })), ...(vs.sorryServer ? [{ d: vs.sorryServer, path: ['sorryServer', 'address'] }] : [])];
    for (const { d, path } of targets) {
      if (forwardingOf(vs, d) !== 'dr') continue;
      for (const h of segmented) {
        if (inPrefixes(d.address, h.networks ?? [])) continue;
        issues.push(
          issueAt(vs, path, `${d.address} uses direct routing but is on none of director "${h.name}"'s networks (${(h.networks ?? []).join(', ')}): DR needs the real server on the director's segment (or use tun)`),
        );
      }
    }
  }

  const vrrps = byKind(objects, 'vrrp-instance');
  const vips = new Map<string, string>();
  const routers = new Map<string, DesiredOf<'vrrp-instance'>>();
  const groups = new Map<string, DesiredOf<'vrrp-instance'>>();
  for (const v of vrrps) {
    for (const name of Object.keys(v.priorities)) needHost(v, ['priorities', name], name, 'director');
    v.trackVirtualServices.forEach((t, i) => {
      if (!services.has(t.virtualService)) {
        issues.push(issueAt(v, ['trackVirtualServices', i, 'virtualService'], `virtual service "${t.virtualService}" does not exist`));
      }
    });
    v.virtualAddresses.forEach((a, i) => {
      const other = vips.get(a.address);
      if (other !== undefined) issues.push(issueAt(v, ['virtualAddresses', i, 'address'], `${a.address} is already carried by VRRP instance "${other}"`));
      else vips.set(a.address, v.id);
    });
    const family = ipFamily(v.virtualAddresses[0]?.address ?? '0.0.0.0');
    const routerKey = `${v.interface}|${family}|${v.virtualRouterId}`;
    const clash = routers.get(routerKey);
    if (clash && Object.keys(v.priorities).some((h) => h in clash.priorities)) {
      issues.push(
        issueAt(v, ['virtualRouterId'], `${v.virtualRouterId} on ${v.interface} is already used by VRRP instance "${clash.id}" on the same director`),
      );
    } else if (!clash) {
      routers.set(routerKey, v);
    }
    if (v.syncGroup !== undefined) {
      const first = groups.get(v.syncGroup);
      const mine = Object.keys(v.priorities).sort().join(',');
      if (first && Object.keys(first.priorities).sort().join(',') !== mine) {
        issues.push(issueAt(v, ['syncGroup'], `members of sync group "${v.syncGroup}" must run on the same directors as "${first.id}"`));
      } else if (!first) {
        groups.set(v.syncGroup, v);
      }
    }
  }

  const clusters = new Map(byKind(objects, 'replication-cluster').map((c) => [c.id, c]));
  for (const s of byKind(objects, 'session-store')) {
    s.hosts.forEach((name, i) => needHost(s, ['hosts', i], name, 'realserver'));
    if (s.upstream.mode === 'replication') {
      const id = s.upstream.replicationCluster;
      const c = clusters.get(id);
      if (!c) issues.push(issueAt(s, ['upstream', 'replicationCluster'], `replication cluster "${id}" does not exist`));
      else if (c.engine !== 'redis') issues.push(issueAt(s, ['upstream', 'replicationCluster'], `replication cluster "${id}" is a ${c.engine} cluster, not redis`));
    }
  }

  for (const c of byKind(objects, 'replication-cluster')) {
    c.monitorHosts.forEach((name, i) => needHost(c, ['monitorHosts', i], name, 'data'));
    // The pools are matched to nodes by address and port: that is how ipvs-agent finds the real server to weigh.
    const inPool = (vs: DesiredOf<'virtual-service'>, n: { address: string; port: number }) =>
      vs.realServers.some((rs) => rs.address === n.address && rs.port === n.port);
    if (c.readPool) {
      const vs = services.get(c.readPool.virtualService);
      if (!vs) {
        issues.push(issueAt(c, ['readPool', 'virtualService'], `virtual service "${c.readPool.virtualService}" does not exist`));
      } else {
        c.nodes.forEach((n, i) => {
          if (n.role === 'replica' && !inPool(vs, n)) {
            issues.push(issueAt(c, ['nodes', i], `replica ${n.address} port ${n.port} is not a real server of the read pool "${vs.id}"`));
          }
        });
      }
    }
    if (c.writePool) {
      const vs = services.get(c.writePool.virtualService);
      if (!vs) {
        issues.push(issueAt(c, ['writePool', 'virtualService'], `virtual service "${c.writePool.virtualService}" does not exist`));
      } else {
        c.nodes.forEach((n, i) => {
          if (n.role === 'primary' && !inPool(vs, n)) {
            issues.push(issueAt(c, ['nodes', i], `primary ${n.address} port ${n.port} is not a real server of the write pool "${vs.id}"`));
          }
        });
        for (const rs of vs.realServers) {
          if (!c.nodes.some((n) => n.address === rs.address && n.port === rs.port)) {
            issues.push(
              issueAt(c, ['writePool', 'virtualService'], `real server ${rs.address} port ${rs.port} of "${vs.id}" is not a node of the cluster: it would take writes without being the primary`),
            );
          }
        }
      }
    }
  }
  return issues;
}

/** Objects that refer to the object with this key (what deleting it would break). */
export function referencesTo(objects: DesiredObject[], target: DesiredObject): string[] {
  const id = idOf(target);
  const refs: string[] = [];
  for (const o of objects) {
    const uses =
      (target.kind === 'virtual-service' &&
        ((o.kind === 'vrrp-instance' && o.trackVirtualServices.some((t) => t.virtualService === id)) ||
          (o.kind === 'replication-cluster' && (o.readPool?.virtualService === id || o.writePool?.virtualService === id)))) ||
      (target.kind === 'host' &&
        ((o.kind === 'vrrp-instance' && id in o.priorities) ||
          (o.kind === 'session-store' && o.hosts.includes(id)) ||
          (o.kind === 'replication-cluster' && o.monitorHosts.includes(id)))) ||
      (target.kind === 'replication-cluster' && o.kind === 'session-store' && o.upstream.mode === 'replication' && o.upstream.replicationCluster === id);
    if (uses) refs.push(keyOf(o));
  }
  return refs;
}
