import { namespaceOf, switchNode, switchPort, type TopologySpec } from './spec.js';

// The topology is built by one POSIX shell script that feeds `ip -batch` one batch per namespace:
// in the lab VM a fork+exec costs ~65 times what it costs on the host, so a topology of five
// nodes takes about 15 processes instead of a hundred.

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function batch(ns: string | null, lines: string[], what?: string): string {
  const target = ns === null ? 'ip' : `ip -n ${shellQuote(ns)}`;
  // ip names only the line of the batch that failed: say which step the batch was.
  const onError = what ? ` || fail ${shellQuote(what)}` : '';
  return `${target} -batch - <<'EOF'${onError}\n${lines.join('\n')}\nEOF`;
}

/** Every namespace a topology creates, the bridges' namespace first. */
export function namespacesOf(spec: TopologySpec): string[] {
  return [namespaceOf(spec, switchNode), ...spec.nodes.map((n) => namespaceOf(spec, n.name))];
}

/** The shell script that builds a topology; it stops at the first failing step (`set -e`). */
export function upScript(spec: TopologySpec): string {
  const sw = namespaceOf(spec, switchNode);
  const steps: string[] = ['set -e', 'fail() { echo "topology: $1 failed" >&2; exit 1; }'];

  const root = namespacesOf(spec).map((ns) => `netns add ${ns}`);
  for (const node of spec.nodes) {
    for (const iface of node.interfaces) {
      root.push(
        `link add ${iface.name} netns ${namespaceOf(spec, node.name)} type veth peer name ${switchPort(node.name, iface.name)} netns ${sw}`,
      );
    }
  }
  steps.push(batch(null, root, 'creating the namespaces and veth pairs'));

  const bridges = ['link set lo up'];
  for (const segment of spec.segments) bridges.push(`link add ${segment} type bridge`, `link set ${segment} up`);
  for (const node of spec.nodes) {
    for (const iface of node.interfaces) {
      const port = switchPort(node.name, iface.name);
      bridges.push(`link set ${port} master ${iface.segment}`, `link set ${port} up`);
    }
  }
  steps.push(batch(sw, bridges, 'creating the bridges'));

  for (const node of spec.nodes) {
    const ns = namespaceOf(spec, node.name);
    const sysctls = Object.entries(node.sysctls);
    // Before any interface is up, so that e.g. arp_ignore holds from the first packet.
    if (sysctls.length) {
      const words = sysctls.map(([k, v]) => shellQuote(`${k}=${v}`)).join(' ');
      steps.push(`ip netns exec ${ns} sysctl -q -w ${words} || fail ${shellQuote(`setting the sysctls of ${node.name}`)}`);
    }
    // lo first: IPVS refuses DR destinations as "not unicast" in a namespace whose lo is down.
    const lines = ['link set lo up', ...node.loopback.map((a) => `address add ${a} dev lo`)];
    for (const iface of node.interfaces) {
      if (iface.mac) lines.push(`link set ${iface.name} address ${iface.mac}`);
      for (const a of iface.addresses) lines.push(`address add ${a} dev ${iface.name}`);
      lines.push(`link set ${iface.name} up`);
    }
    for (const r of node.routes) {
      const words = ['route add', r.to];
      if (r.via) words.push('via', r.via);
      if (r.dev) words.push('dev', r.dev);
      if (r.src) words.push('src', r.src);
      lines.push(words.join(' '));
    }
    steps.push(batch(ns, lines, `configuring ${node.name}`));
  }
  return `${steps.join('\n')}\n`;
}

/**
 * The shell script that removes a topology's namespaces (their interfaces and bridges go with
 * them). It tolerates namespaces that are already gone. Processes still running in a namespace
 * keep its interfaces alive, so stop them first.
 */
export function downScript(spec: TopologySpec): string {
  return `${batch(null, namespacesOf(spec).map((ns) => `netns del ${ns}`)).replace('ip -batch', 'ip -force -batch')}\n`;
}
