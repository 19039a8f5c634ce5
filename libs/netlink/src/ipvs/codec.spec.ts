import { readFileSync } from 'node:fs';
import { ipvsService } from '@fulcrum/schemas';
import { describe, expect, it } from 'vitest';
import { AttrWriter, Attrs } from './attrs.js';
import {
  IPVS_CMD,
  IPVS_CMD_ATTR,
  IPVS_DAEMON_ATTR,
  IPVS_DEST_ATTR,
  IPVS_INFO_ATTR,
  IPVS_STATS_ATTR,
  IPVS_SVC_ATTR,
  IP_VS_CONN_F,
  IP_VS_STATE,
  IP_VS_SVC_F,
  IP_VS_TUNNEL_ENCAP_FLAG,
  IP_VS_TUNNEL_TYPE,
  canonicalService,
  decodeDaemon,
  decodeDestination,
  decodeInfo,
  decodeService,
  decodeTimeouts,
  genlPayload,
  writeDaemon,
  writeDestination,
  writeService,
  writeStats64,
  writeTimeouts,
} from './codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** #defines and enum members of linux/ip_vs.h, evaluated (enums count up from their last value). */
function headerConstants(): Map<string, number> {
  const text = readFileSync('/usr/include/linux/ip_vs.h', 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const out = new Map<string, number>();
  const evalExpr = (e: string): number | undefined => {
    const expr = e.trim().replace(/\b([A-Z_][A-Z0-9_]*)\b/g, (n) => (out.has(n) ? String(out.get(n)) : 'NaN'));
    if (!/^[\d\sx()|<+a-fA-FNa-]*$/.test(expr)) return undefined;
    const v = Function(`return (${expr});`)() as number;
    return Number.isNaN(v) ? undefined : v;
  };
  for (const m of text.matchAll(/^#define\s+(\w+)\s+(.+)$/gm)) {
    const v = evalExpr(m[2] as string);
    if (v !== undefined) out.set(m[1] as string, v);
  }
  for (const body of text.matchAll(/enum\s*\{([^}]*)\}/g)) {
    let next = 0;
    for (const item of (body[1] as string).split(',')) {
      const [name, value] = item.split('=').map((x) => x.trim());
      if (!name) continue;
      const v = value !== undefined ? (evalExpr(value) ?? next) : next;
      out.set(name, v);
      next = v + 1;
    }
  }
  return out;
}

describe('constants match linux/ip_vs.h', () => {
  const h = headerConstants();
  const check = (prefix: string, table: Record<string, number>): void => {
    for (const [k, v] of Object.entries(table)) expect([`${prefix}${k}`, h.get(`${prefix}${k}`)]).toEqual([`${prefix}${k}`, v]);
  };
  it('commands and first-level attributes', () => {
    check('IPVS_CMD_', IPVS_CMD);
    check('IPVS_CMD_ATTR_', IPVS_CMD_ATTR);
    expect(h.get('IPVS_GENL_VERSION')).toBe(1);
  });
  it('service, destination, daemon, stats and info attributes', () => {
    check('IPVS_SVC_ATTR_', IPVS_SVC_ATTR);
    check('IPVS_DEST_ATTR_', IPVS_DEST_ATTR);
    check('IPVS_DAEMON_ATTR_', IPVS_DAEMON_ATTR);
    check('IPVS_STATS_ATTR_', IPVS_STATS_ATTR);
    check('IPVS_INFO_ATTR_', IPVS_INFO_ATTR);
  });
  it('service flags, forwarding methods, tunnel types and flags, daemon states', () => {
    check('IP_VS_SVC_F_', IP_VS_SVC_F);
    expect(h.get('IP_VS_SVC_F_SCHED_SH_FALLBACK')).toBe(IP_VS_SVC_F.SCHED1);
    expect(h.get('IP_VS_SVC_F_SCHED_SH_PORT')).toBe(IP_VS_SVC_F.SCHED2);
    check('IP_VS_CONN_F_', IP_VS_CONN_F);
    expect(h.get('IP_VS_CONN_F_TUNNEL_TYPE_IPIP')).toBe(IP_VS_TUNNEL_TYPE.ipip);
    expect(h.get('IP_VS_CONN_F_TUNNEL_TYPE_GUE')).toBe(IP_VS_TUNNEL_TYPE.gue);
    expect(h.get('IP_VS_CONN_F_TUNNEL_TYPE_GRE')).toBe(IP_VS_TUNNEL_TYPE.gre);
    expect(h.get('IP_VS_TUNNEL_ENCAP_FLAG_CSUM')).toBe(IP_VS_TUNNEL_ENCAP_FLAG.csum);
    expect(h.get('IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM')).toBe(IP_VS_TUNNEL_ENCAP_FLAG.remcsum);
    check('IP_VS_STATE_', IP_VS_STATE);
  });
});

describe('encoding, byte for byte', () => {
  it('a persistent IPv4 TCP service with a /24 netmask', () => {
    const w = new AttrWriter();
    writeService(w, ipvsService.parse({ key: { kind: 'addr', protocol: 'tcp', address: '10.1.2.3', port: 80 }, scheduler: 'wrr', persistence: 300, persistencePrefix: 24 }));
    expect(w.toBuffer().toString('hex')).toBe(
      hex(`54000100
        06000100 02000000
        06000200 06000000
        14000300 0a010203 00000000 00000000 00000000
        06000400 00500000
        08000600 77727200
        0c000700 01000000 ffffffff
        08000800 2c010000
        08000900 ffffff00`).toString('hex'),
    );
  });

  it('an IPv6 firewall-mark service: mark instead of address, netmask as a prefix length', () => {
    const w = new AttrWriter();
    writeService(w, ipvsService.parse({ key: { kind: 'fwmark', fwmark: 7, family: 'inet6' }, scheduler: 'sh', flags: { shFallback: true, shPort: true, onePacket: true }, persistence: 60, persistencePrefix: 64 }));
    expect(w.toBuffer().toString('hex')).toBe(
      hex(`38000100
        06000100 0a000000
        08000500 07000000
        07000600 73680000
        0c000700 1d000000 ffffffff
        08000800 3c000000
        08000900 40000000`).toString('hex'),
    );
  });

  it('a GUE tunnel destination with port, checksum flag and thresholds', () => {
    const w = new AttrWriter();
    writeDestination(w, {
      address: '10.2.0.5',
      port: 8080,
      forward: 'tunnel',
      weight: 5,
      upperThreshold: 100,
      lowerThreshold: 10,
      tunnelType: 'gue',
      tunnelPort: 6080,
      tunnelFlags: ['csum'],
    });
    expect(w.toBuffer().toString('hex')).toBe(
      hex(`60000200
        14000100 0a020005 00000000 00000000 00000000
        06000200 1f900000
        06000b00 02000000
        08000300 02000000
        08000400 05000000
        08000500 64000000
        08000600 0a000000
        05000d00 01000000
        06000e00 17c00000
        06000f00 01000000`).toString('hex'),
    );
  });

  it('a sync daemon and the timeouts (0 = leave unchanged, so not sent)', () => {
    const w = new AttrWriter();
    writeDaemon(w, { state: 'backup', interface: 'eth1', syncId: 9 });
    expect(w.toBuffer().toString('hex')).toBe(hex('20000300 08000100 02000000 09000200 65746831 00000000 08000300 09000000').toString('hex'));
    const t = new AttrWriter();
    writeTimeouts(t, { tcp: 900, tcpFin: 0, udp: 300 });
    expect(t.toBuffer().toString('hex')).toBe(hex('08000400 84030000 08000600 2c010000').toString('hex'));
  });

  it('the generic-netlink header carries the command and family version 1', () => {
    expect(genlPayload(IPVS_CMD.FLUSH, Buffer.alloc(0)).toString('hex')).toBe('11010000');
  });
});

describe('decoding kernel replies', () => {
  it('a dumped destination (as ip_vs_genl_fill_dest writes it), 64-bit counters preferred', () => {
    const reply = hex(`
      14000100 c0a80a07 00000000 00000000 00000000
      06000200 00160000
      08000300 03000000
      08000400 02000000
      05000d00 00000000
      06000e00 00000000
      06000f00 00000000
      08000500 00000000
      08000600 00000000
      08000700 04000000
      08000800 01000000
      08000900 00000000
      06000b00 02000000`);
    const stats32 = new AttrWriter().nested(IPVS_DEST_ATTR.STATS, (s) => s.u32(IPVS_STATS_ATTR.CONNS, 1).u32(IPVS_STATS_ATTR.INPKTS, 2)).toBuffer();
    const stats64 = new AttrWriter();
    writeStats64(stats64, IPVS_DEST_ATTR.STATS64, {
      conns: 0x1_0000_0001n,
      inPackets: 2n,
      outPackets: 3n,
      inBytes: 0x1_0000_0000_0000n,
      outBytes: 5n,
      cps: 6n,
      inPps: 7n,
      outPps: 8n,
      inBps: 9n,
      outBps: 10n,
    });
    const d = decodeDestination(Buffer.concat([reply, stats32, stats64.toBuffer()]), 'inet');
    expect(d.destination).toEqual({
      address: '192.168.10.7',
      port: 22,
      forward: 'route',
      weight: 2,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunnelType: 'ipip',
      tunnelPort: 0,
      tunnelFlags: [],
    });
    expect([d.activeConns, d.inactiveConns, d.persistentConns]).toEqual([4, 1, 0]);
    expect(d.stats.conns).toBe(0x1_0000_0001n);
    expect(d.stats.inBytes).toBe(0x1_0000_0000_0000n);
    expect(d.stats.outBps).toBe(10n);
  });

  it('falls back to the 32-bit stats of older kernels', () => {
    const w = new AttrWriter();
    w.bytes(IPVS_DEST_ATTR.ADDR, Buffer.from([10, 0, 0, 1, ...new Array(12).fill(0)]))
      .u16be(IPVS_DEST_ATTR.PORT, 80)
      .u32(IPVS_DEST_ATTR.FWD_METHOD, 0)
      .u32(IPVS_DEST_ATTR.WEIGHT, 1)
      .nested(IPVS_DEST_ATTR.STATS, (s) => s.u32(IPVS_STATS_ATTR.CONNS, 42).u64(IPVS_STATS_ATTR.OUTBYTES, 1n << 40n));
    const d = decodeDestination(w.toBuffer(), 'inet');
    expect(d.destination.forward).toBe('masq');
    expect(d.stats.conns).toBe(42n);
    expect(d.stats.outBytes).toBe(1n << 40n);
  });

  it('an IPv6 service with mh flags; the HASHED bit and full-length netmask are not reported', () => {
    const w = new AttrWriter()
      .u16(IPVS_SVC_ATTR.AF, 10)
      .u16(IPVS_SVC_ATTR.PROTOCOL, 17)
      .bytes(IPVS_SVC_ATTR.ADDR, hex('20010db8000000000000000000000001'))
      .u16be(IPVS_SVC_ATTR.PORT, 53)
      .string(IPVS_SVC_ATTR.SCHED_NAME, 'mh')
      .bytes(IPVS_SVC_ATTR.FLAGS, hex('1a000000 ffffffff'))
      .u32(IPVS_SVC_ATTR.TIMEOUT, 0)
      .bytes(IPVS_SVC_ATTR.NETMASK, hex('80000000'));
    const { service } = decodeService(w.toBuffer());
    expect(service).toEqual({
      key: { kind: 'addr', protocol: 'udp', address: '2001:db8::1', port: 53 },
      scheduler: 'mh',
      flags: { onePacket: false, shFallback: false, shPort: false, mhFallback: true, mhPort: true },
      persistence: 0,
      destinations: [],
    });
  });

  it('round-trips every field through encode and decode', () => {
    const services = [
      ipvsService.parse({ key: { kind: 'addr', protocol: 'sctp', address: '2001:DB8:0:0::10', port: 9 }, scheduler: 'lblcr', persistence: 1800, persistencePrefix: 48, persistenceEngine: 'sip' }),
      ipvsService.parse({ key: { kind: 'fwmark', fwmark: 0xfffffffe, family: 'inet' }, scheduler: 'rr', flags: { onePacket: true } }),
      ipvsService.parse({ key: { kind: 'addr', protocol: 'udp', address: '192.0.2.1', port: 65535 }, scheduler: 'sh', flags: { shPort: true }, persistence: 1 }),
    ];
    for (const s of services) {
      const w = new AttrWriter();
      writeService(w, s);
      const inner = Attrs.parse(w.toBuffer(), 'cmd').payload(IPVS_CMD_ATTR.SERVICE, 'SERVICE');
      expect(decodeService(inner).service).toEqual(canonicalService(s));
    }
    const dest = { address: '2001:db8::7', port: 0, forward: 'tunnel' as const, weight: 65535, upperThreshold: 4000000000, lowerThreshold: 3, tunnelType: 'gre' as const, tunnelPort: 0, tunnelFlags: ['csum' as const, 'remcsum' as const] };
    const w = new AttrWriter();
    writeDestination(w, dest);
    const inner = Attrs.parse(w.toBuffer(), 'cmd').payload(IPVS_CMD_ATTR.DEST, 'DEST');
    expect(decodeDestination(inner, 'inet').destination).toEqual(dest);
  });

  it('daemons, timeouts and info', () => {
    const w = new AttrWriter();
    writeDaemon(w, { state: 'master', interface: 'eth0', syncId: 3, maxLength: 1400, group: 'ff02::99', port: 8848, ttl: 2 });
    const inner = Attrs.parse(w.toBuffer(), 'cmd').payload(IPVS_CMD_ATTR.DAEMON, 'DAEMON');
    expect(decodeDaemon(inner)).toEqual({ state: 'master', interface: 'eth0', syncId: 3, maxLength: 1400, group: 'ff02::99', port: 8848, ttl: 2 });
    expect(decodeTimeouts(hex('08000400 84030000 08000500 78000000 08000600 2c010000'))).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    expect(decodeInfo(hex('08000100 01020100 08000200 00100000'))).toEqual({ version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 });
  });

  it('names the attribute when a reply is malformed', () => {
    expect(() => decodeInfo(hex('08000100 01020100'))).toThrow(/CONN_TAB_SIZE/);
    expect(() => decodeDestination(hex('06000200 00160000'), 'inet')).toThrow(/ADDR/);
    expect(() => decodeService(hex('06000100 07000000'))).toThrow(/AF 7/);
    expect(() => Attrs.parse(hex('ff000100 00000000'), 'x')).toThrow(/length 255/);
  });
});
