import { describe, expect, it } from 'vitest';
import { natAddresses, natTopology, seedsAddresses, seedsTopology } from './shapes.js';
import { isCidr, parseTopology, TopologyError } from './spec.js';

const node = (name: string, segment = 'lan', addresses = ['10.99.0.1/24']) => ({
  name,
  interfaces: [{ name: 'eth0', segment, addresses }],
});

function issuesOf(input: unknown): string[] {
  try {
    parseTopology(input);
  } catch (err) {
    expect(err).toBeInstanceOf(TopologyError);
    return (err as TopologyError).issues;
  }
  throw new Error('parseTopology accepted the input');
}

describe('parseTopology', () => {
  it('fills in the defaults', () => {
    const spec = parseTopology({ segments: ['lan'], nodes: [{ name: 'a' }] });
    expect(spec).toEqual({
      prefix: '',
      segments: ['lan'],
      nodes: [{ name: 'a', interfaces: [], loopback: [], routes: [], sysctls: {} }],
    });
  });

  it('names the field of a malformed address', () => {
    expect(issuesOf({ segments: ['lan'], nodes: [node('a', 'lan', ['10.99.0.300/24'])] })).toEqual([
      'nodes[0].interfaces[0].addresses[0]: "10.99.0.300/24" is not an address with a prefix length (e.g. 10.99.0.11/24)',
    ]);
  });

  it('reports an unknown segment with the segments there are', () => {
    expect(issuesOf({ segments: ['lan'], nodes: [node('a', 'lann')] })).toEqual([
      'nodes[0].interfaces[0].segment: unknown segment "lann" (segments: lan)',
    ]);
  });

  it('reports every problem at once', () => {
    const issues = issuesOf({
      segments: ['lan', 'lan'],
      nodes: [node('a'), node('a'), { name: 'b', routes: [{ to: 'default', dev: 'eth9' }] }],
    });
    expect(issues).toEqual([
      'segments[1]: segment "lan" is listed twice',
      'nodes[1].name: node "a" is listed twice',
      'nodes[2].routes[0].dev: b has no interface "eth9"',
    ]);
  });

  it('refuses names that cannot be Linux interface or namespace names', () => {
    expect(issuesOf({ segments: ['lan'], nodes: [{ name: 'bad name' }] })[0]).toMatch(/^nodes\[0\]\.name: a node name must start with a letter/);
    expect(issuesOf({ segments: ['lan'], nodes: [{ name: 'switch' }] })).toEqual(['nodes[0].name: "switch" is the namespace of the bridges']);
    // the bridge port is named <node>-<interface> and must fit in 15 characters
    expect(issuesOf({ segments: ['lan'], nodes: [{ name: 'director10', interfaces: [{ name: 'uplink', segment: 'lan' }] }] })).toEqual([
      'nodes[0].interfaces[0].name: the bridge port "director10-uplink" would be longer than 15 characters; shorten the node or interface name',
    ]);
  });

  it('refuses a route with neither gateway nor device, and unknown keys', () => {
    expect(issuesOf({ segments: ['lan'], nodes: [{ name: 'a', routes: [{ to: 'default' }] }] })).toEqual([
      'nodes[0].routes[0]: a route needs `via`, `dev` or both',
    ]);
    expect(issuesOf({ segments: ['lan'], nodes: [{ name: 'a', adresses: [] }] })[0]).toMatch(/^nodes\[0\]: Unrecognized key: "adresses"/);
  });

  it('knows an address with a prefix length when it sees one', () => {
    expect(['10.0.0.1/24', '10.0.0.1/32', 'fd00::1/64'].map(isCidr)).toEqual([true, true, true]);
    expect(['10.0.0.1', '10.0.0.1/33', 'fd00::1/129', 'host/24', '10.0.0.1/ 24'].map(isCidr)).toEqual([false, false, false, false, false]);
  });
});

describe('the ready-made topologies', () => {
  it('seeds: five nodes on one segment, the VIP on director1 and on the real servers\' lo', () => {
    const spec = seedsTopology();
    expect(spec.nodes.map((n) => n.name)).toEqual(['client', 'director1', 'director2', 'rs1', 'rs2']);
    expect(spec.segments).toEqual(['lan']);
    const byName = Object.fromEntries(spec.nodes.map((n) => [n.name, n]));
    expect(byName.director1?.interfaces[0]?.addresses).toEqual([`${seedsAddresses.director1}/24`, `${seedsAddresses.vip}/32`]);
    expect(byName.director2?.interfaces[0]?.addresses).toEqual([`${seedsAddresses.director2}/24`]);
    for (const rs of ['rs1', 'rs2']) {
      expect(byName[rs]?.loopback).toEqual([`${seedsAddresses.vip}/32`]);
      expect(byName[rs]?.sysctls).toMatchObject({ 'net.ipv4.conf.all.arp_ignore': 1, 'net.ipv4.conf.all.arp_announce': 2 });
    }
  });

  it('seeds: the VIP can start on director2 or on no director', () => {
    const vipHolders = (opts: Parameters<typeof seedsTopology>[0]) =>
      seedsTopology(opts)
        .nodes.filter((n) => n.interfaces.some((i) => i.addresses.includes(`${seedsAddresses.vip}/32`)))
        .map((n) => n.name);
    expect(vipHolders({ vipOn: 'director2' })).toEqual(['director2']);
    expect(vipHolders({ vipOn: null })).toEqual([]);
    expect(seedsTopology({ prefix: 't1-' }).prefix).toBe('t1-');
  });

  it('nat: the director forwards between the segments and is the real servers\' gateway', () => {
    const spec = natTopology();
    const byName = Object.fromEntries(spec.nodes.map((n) => [n.name, n]));
    expect(byName.director1?.sysctls['net.ipv4.ip_forward']).toBe(1);
    expect(byName.director1?.interfaces.map((i) => i.segment)).toEqual(['public', 'private']);
    for (const rs of ['rs1', 'rs2']) {
      expect(byName[rs]?.routes).toEqual([{ to: 'default', via: natAddresses.directorPrivate }]);
      expect(byName[rs]?.interfaces[0]?.segment).toBe('private');
    }
    expect(byName.client?.interfaces[0]?.segment).toBe('public');
  });
});
