import type { ManagedServer } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsCheck } from './dns.js';
import { startDnsmasq, startUdpServer } from './testing/servers.js';

let dnsmasq: ManagedServer;
beforeAll(async () => {
  dnsmasq = await startDnsmasq({ 'example.test': '127.0.0.1' });
});
afterAll(() => dnsmasq?.dispose());

const at = () => ({ address: '127.0.0.1', port: dnsmasq.port });

describe('DNS check against dnsmasq', () => {
  it('is up when the name has an answer of the asked type', async () => {
    expect(await dnsCheck(at(), { timeoutMs: 5000, queryType: 'A', queryName: 'example.test' })).toMatchObject({ ok: true });
    expect(await dnsCheck(at(), { timeoutMs: 5000, queryType: 'A', queryName: 'EXAMPLE.test.' })).toMatchObject({ ok: true });
  });

  it('fails no-answer on NOERROR without a record of that type', async () => {
    expect(await dnsCheck(at(), { timeoutMs: 5000, queryType: 'AAAA', queryName: 'example.test' })).toMatchObject({
      ok: false,
      reason: 'no-answer',
      message: 'DNS NOERROR but no answer for AAAA example.test',
    });
  });

  it('fails rcode on NXDOMAIN and on REFUSED', async () => {
    expect(await dnsCheck(at(), { timeoutMs: 5000, queryType: 'A', queryName: 'elsewhere.test' })).toMatchObject({ ok: false, reason: 'rcode', message: 'DNS NXDOMAIN for A elsewhere.test' });
    // The default query, SOA of the root, has no upstream to go to.
    expect(await dnsCheck(at(), { timeoutMs: 5000 })).toMatchObject({ ok: false, reason: 'rcode', message: 'DNS REFUSED for SOA .' });
  });

  it('fails refused when dnsmasq is stopped, and passes again once it is back', async () => {
    await dnsmasq.stop();
    expect(await dnsCheck(at(), { timeoutMs: 5000, queryType: 'A', queryName: 'example.test' })).toMatchObject({ ok: false, reason: 'refused' });
    await dnsmasq.start();
    expect(await dnsCheck(at(), { timeoutMs: 5000, queryType: 'A', queryName: 'example.test' })).toMatchObject({ ok: true });
  });
});

describe('DNS check against misbehaving servers', () => {
  it('ignores replies with another id and times out', async () => {
    const wrongId = await startUdpServer((q) => Buffer.concat([Buffer.from([q[0]! ^ 0xff, q[1]!, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]), q.subarray(12)]));
    try {
      expect(await dnsCheck({ address: '127.0.0.1', port: wrongId.port }, { timeoutMs: 300 })).toMatchObject({ ok: false, reason: 'timeout' });
    } finally {
      wrongId.close();
    }
  });

  it('fails protocol on garbage that carries the right id', async () => {
    const garbage = await startUdpServer((q) => Buffer.concat([q.subarray(0, 2), Buffer.from([0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xff, 0xfe, 0x00])]));
    try {
      expect(await dnsCheck({ address: '127.0.0.1', port: garbage.port }, { timeoutMs: 5000 })).toMatchObject({
        ok: false,
        reason: 'protocol',
        message: 'DNS reply to SOA .: the reply does not echo the question asked',
      });
    } finally {
      garbage.close();
    }
  });
});
