import { describe, expect, it } from 'vitest';
import { downScript, namespacesOf, shellQuote, upScript } from './plan.js';
import { parseTopology } from './spec.js';

const spec = parseTopology({
  prefix: 't-',
  segments: ['lan'],
  nodes: [
    {
      name: 'rs1',
      interfaces: [{ name: 'eth0', segment: 'lan', addresses: ['10.99.0.21/24'], mac: '02:00:00:00:00:21' }],
      loopback: ['10.99.0.100/32'],
      routes: [{ to: 'default', via: '10.99.0.1' }],
      sysctls: { 'net.ipv4.conf.all.arp_ignore': 1, 'net.ipv4.conf.all.arp_announce': 2 },
    },
    { name: 'client', interfaces: [{ name: 'eth0', segment: 'lan', addresses: ['10.99.0.10/24'] }] },
  ],
});

describe('upScript', () => {
  const script = upScript(spec);
  const lines = script.split('\n');
  const at = (text: string) => {
    const i = lines.findIndex((l) => l === text);
    expect(i, `line ${JSON.stringify(text)} in\n${script}`).toBeGreaterThanOrEqual(0);
    return i;
  };

  it('creates the namespaces, then each veth straight into its two namespaces', () => {
    expect(at('netns add t-switch')).toBeLessThan(at('link add eth0 netns t-rs1 type veth peer name rs1-eth0 netns t-switch'));
    at('link add eth0 netns t-client type veth peer name client-eth0 netns t-switch');
  });

  it('puts the bridge and its ports in the switch namespace', () => {
    const sw = at("ip -n t-switch -batch - <<'EOF' || fail 'creating the bridges'");
    expect(at('link add lan type bridge')).toBeGreaterThan(sw);
    expect(at('link set rs1-eth0 master lan')).toBeGreaterThan(at('link add lan type bridge'));
  });

  it('sets sysctls before the node\'s interfaces come up, lo first, routes last', () => {
    const sysctl = at(
      "ip netns exec t-rs1 sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 || fail 'setting the sysctls of rs1'",
    );
    const batch = at("ip -n t-rs1 -batch - <<'EOF' || fail 'configuring rs1'");
    expect(sysctl).toBeLessThan(batch);
    expect(lines[batch + 1]).toBe('link set lo up');
    expect(lines[batch + 2]).toBe('address add 10.99.0.100/32 dev lo');
    expect(at('link set eth0 address 02:00:00:00:00:21')).toBeLessThan(at('address add 10.99.0.21/24 dev eth0'));
    expect(at('route add default via 10.99.0.1')).toBeGreaterThan(lines.indexOf('link set eth0 up', batch));
  });

  it('stops at the first failure and runs one process per batch, not per step', () => {
    expect(lines[0]).toBe('set -e');
    expect(lines[1]).toBe('fail() { echo "topology: $1 failed" >&2; exit 1; }');
    expect(lines.filter((l) => l.startsWith('ip ')).length).toBe(2 + 2 + 1);
  });
});

describe('downScript', () => {
  it('deletes every namespace and tolerates those already gone', () => {
    expect(namespacesOf(spec)).toEqual(['t-switch', 't-rs1', 't-client']);
    expect(downScript(spec)).toBe("ip -force -batch - <<'EOF'\nnetns del t-switch\nnetns del t-rs1\nnetns del t-client\nEOF\n");
  });
});

describe('shellQuote', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    expect(shellQuote('10.99.0.1/24')).toBe('10.99.0.1/24');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });
});
