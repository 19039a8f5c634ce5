import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSocketError } from './errors.js';
import { openArpAnnouncer } from './arp-announcer.js';
import { openVrrpSocket } from './vrrp-socket.js';
import type { ReceivedPacket, VrrpSocket } from './vrrp-socket.js';

// Two network namespaces made here, joined by a veth pair: what one sends the other receives.
const id = process.pid % 100_000;
const nsA = `fraw-a-${id}`;
const nsB = `fraw-b-${id}`;
const A = '10.203.0.1';
const B = '10.203.0.2';
const A6 = 'fe80::a';
const B6 = 'fe80::b';
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

/** A VRRPv2 advert (VRID 9, priority 100, one address, no auth) in an IPv4 header with this TTL. */
function advert(src: string, dst: string, ttl = 255): Buffer {
  const msg = Buffer.from([0x21, 9, 100, 1, 0, 1, 0, 0, 10, 203, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0]);
  const pkt = Buffer.alloc(20 + msg.length);
  pkt[0] = 0x45;
  pkt[1] = 0xc0;
  pkt.writeUInt16BE(pkt.length, 2);
  pkt[8] = ttl;
  pkt[9] = 112;
  pkt.set(src.split('.').map(Number), 12);
  pkt.set(dst.split('.').map(Number), 16);
  msg.copy(pkt, 20);
  return pkt;
}

async function receiveUntil(sock: VrrpSocket, match: (b: Buffer) => boolean, timeoutMs = 3000): Promise<ReceivedPacket> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const p = await sock.receive();
    if (p && match(p.data)) return p;
  }
  throw new Error(`nothing matching within ${timeoutMs} ms`);
}

describe('raw VRRP and ARP sockets between two namespaces', () => {
  beforeAll(async () => {
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    ip('link', 'add', 'va', 'netns', nsA, 'type', 'veth', 'peer', 'name', 'vb', 'netns', nsB);
    ip('-n', nsA, 'addr', 'add', `${A}/24`, 'dev', 'va');
    ip('-n', nsB, 'addr', 'add', `${B}/24`, 'dev', 'vb');
    for (const [ns, dev, ll] of [[nsA, 'va', A6], [nsB, 'vb', B6]] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      // Fixed link-local addresses, usable at once (no DAD wait).
      ip('-n', ns, 'link', 'set', dev, 'addrgenmode', 'none');
      ip('-n', ns, 'addr', 'add', `${ll}/64`, 'dev', dev, 'nodad');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    // IPv6 multicast is routed once the kernel has seen the carrier (linkwatch: up to a second later).
    for (const ns of [nsA, nsB]) {
      const until = Date.now() + 10_000;
      while (!ip('-n', ns, '-6', 'route', 'show', 'table', 'local').includes('multicast ff00::/8')) {
        if (Date.now() > until) throw new Error(`no IPv6 multicast route in ${ns} within 10 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  afterAll(() => {
    for (const ns of [nsA, nsB]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // never created
      }
    }
  });

  it('delivers a multicast advert with its IPv4 header and TTL 255, without blocking the event loop', async () => {
    const a = openVrrpSocket({ interface: 'va', family: 'ipv4', netns: nsA });
    const b = openVrrpSocket({ interface: 'vb', family: 'ipv4', netns: nsB, receiveTimeoutMs: 100 });
    try {
      let ticks = 0;
      const timer = setInterval(() => (ticks += 1), 10);
      const waiting = receiveUntil(b, (p) => p[9] === 112 && p[21] === 9);
      await new Promise((r) => setTimeout(r, 150));
      a.send(advert(A, '224.0.0.18'), '224.0.0.18');
      const got = (await waiting).data;
      clearInterval(timer);
      expect(ticks).toBeGreaterThan(5); // the loop kept running while receive() waited
      expect(got[8]).toBe(255);
      expect(got.subarray(12, 20)).toEqual(Buffer.from([10, 203, 0, 1, 224, 0, 0, 18]));
      expect(got.subarray(20)).toEqual(advert(A, '224.0.0.18').subarray(20));
      expect(b.ifindex).toBeGreaterThan(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('sends unicast adverts to a peer, returns null on a quiet link and closes within its timeout', async () => {
    const a = openVrrpSocket({ interface: 'va', family: 'ipv4', netns: nsA, unicast: true });
    const b = openVrrpSocket({ interface: 'vb', family: 'ipv4', netns: nsB, unicast: true, receiveTimeoutMs: 100 });
    try {
      const t0 = Date.now();
      expect(await b.receive()).toBeNull();
      expect(Date.now() - t0).toBeLessThan(1000);
      const waiting = receiveUntil(b, (p) => p[9] === 112);
      a.send(advert(A, B, 64), B);
      const got = (await waiting).data;
      expect(got[8]).toBe(64);
      expect(got.subarray(16, 20)).toEqual(Buffer.from([10, 203, 0, 2]));
      // A packet the kernel holds is read at once, without the pool thread.
      a.send(advert(A, B, 64), B);
      let now = b.receiveNow();
      for (let k = 0; k < 100 && !now; k += 1) {
        await new Promise((r) => setTimeout(r, 10));
        now = b.receiveNow();
      }
      expect(now?.data[9]).toBe(112);
      expect(b.receiveNow()).toBeNull();
      const pending = b.receive();
      const c0 = Date.now();
      await b.close();
      expect(Date.now() - c0).toBeLessThan(1000);
      expect(await pending).toBeNull();
      expect(await b.receive()).toBeNull();
      expect(() => b.send(advert(B, A), A)).toThrow(RawSocketError);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('names the missing interface', () => {
    expect(() => openVrrpSocket({ interface: 'nope0', family: 'ipv4', netns: nsA })).toThrow(/no interface nope0/);
    expect(() => openArpAnnouncer({ interface: 'nope0', netns: nsA })).toThrow(/no interface nope0/);
  });

  it('a gratuitous ARP moves the peer neighbour entry of an address to our MAC', () => {
    ip('-n', nsA, 'addr', 'add', '10.203.0.100/32', 'dev', 'va');
    ip('-n', nsB, 'neigh', 'replace', '10.203.0.100', 'lladdr', '02:00:00:00:00:99', 'dev', 'vb', 'nud', 'stale');
    const arp = openArpAnnouncer({ interface: 'va', netns: nsA });
    try {
      expect(arp.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      expect(ip('-n', nsA, 'link', 'show', 'va')).toContain(arp.mac);
      arp.announce('10.203.0.100');
      const until = Date.now() + 2000;
      let neigh = '';
      while (Date.now() < until) {
        neigh = ip('-n', nsB, 'neigh', 'show', '10.203.0.100', 'dev', 'vb');
        if (neigh.includes(arp.mac)) break;
      }
      expect(neigh).toContain(arp.mac);
      expect(() => arp.announce('10.203.0')).toThrow(/not an IP address/);
    } finally {
      arp.close();
    }
  });

  it('IPv6: a multicast advert arrives with its link-local source, ff02::12 and hop limit 255, from the source given', async () => {
    const a = openVrrpSocket({ interface: 'va', family: 'ipv6', netns: nsA });
    const b = openVrrpSocket({ interface: 'vb', family: 'ipv6', netns: nsB, receiveTimeoutMs: 100 });
    try {
      expect(a.family).toBe('ipv6');
      const msg = Buffer.from([0x31, 9, 100, 1, 0, 100, 0, 0, ...Array.from({ length: 16 }, (_, i) => (i === 0 ? 0xfd : i === 15 ? 1 : 0))]);
      const waiting = receiveUntil(b, (p) => p[1] === 9);
      await new Promise((r) => setTimeout(r, 150));
      a.send(msg, 'ff02::12', A6);
      const got = await waiting;
      expect(got).toMatchObject({ family: 'ipv6', srcAddr: A6, dstAddr: 'ff02::12', hopLimit: 255 });
      expect(got.data).toEqual(msg);
      // Unicast to the peer's link-local address: the same, to it.
      const uni = openVrrpSocket({ interface: 'vb', family: 'ipv6', netns: nsB, unicast: true, receiveTimeoutMs: 100 });
      try {
        const direct = receiveUntil(uni, (p) => p[1] === 10);
        a.send(Buffer.from([0x31, 10, 100, 0, 0, 100, 0, 0]), B6, A6);
        expect(await direct).toMatchObject({ srcAddr: A6, dstAddr: B6, hopLimit: 255 });
        a.send(Buffer.from([0x31, 11, 100, 0, 0, 100, 0, 0]), B6, A6);
        let now = uni.receiveNow();
        for (let k = 0; k < 100 && !now; k += 1) {
          await new Promise((r) => setTimeout(r, 10));
          now = uni.receiveNow();
        }
        expect(now).toMatchObject({ family: 'ipv6', srcAddr: A6, dstAddr: B6, hopLimit: 255 });
        expect(now?.data[1]).toBe(11);
      } finally {
        await uni.close();
      }
      expect(() => a.send(msg, 'ff02::12', 'fe80::99')).toThrow(RawSocketError); // not an address of va
      expect(() => a.send(msg, '224.0.0.18')).toThrow(/not an IPv6 address/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('IPv6: an unsolicited neighbour advertisement moves the peer neighbour entry of an address to our MAC', async () => {
    ip('-n', nsA, 'addr', 'add', 'fd00:203::100/128', 'dev', 'va', 'nodad');
    ip('-n', nsB, 'addr', 'add', 'fd00:203::2/64', 'dev', 'vb', 'nodad');
    ip('-n', nsB, 'neigh', 'replace', 'fd00:203::100', 'lladdr', '02:00:00:00:00:99', 'dev', 'vb', 'nud', 'stale');
    const na = openArpAnnouncer({ interface: 'va', netns: nsA });
    try {
      na.announce('fd00:203::100');
      const until = Date.now() + 5000;
      let neigh = '';
      while (Date.now() < until) {
        neigh = ip('-n', nsB, '-6', 'neigh', 'show', 'fd00:203::100', 'dev', 'vb');
        if (neigh.includes(na.mac)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(neigh).toContain(na.mac);
      expect(neigh).not.toMatch(/\brouter\b/); // va does not forward IPv6
    } finally {
      na.close();
    }
  });
});
