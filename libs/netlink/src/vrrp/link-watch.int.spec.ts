import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtnetlinkLinkWatch } from './link-watch.js';
import type { LinkStatus } from './link-watch.js';

// A veth pair between two namespaces made here: the watch runs in A and follows `va`, while the
// spec changes `va` and its peer `vb` with ip(8).
const id = process.pid % 100_000;
const nsA = `flw-a-${id}`;
const nsB = `flw-b-${id}`;
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

describe('RtnetlinkLinkWatch', () => {
  beforeAll(() => {
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    ip('link', 'add', 'va', 'netns', nsA, 'type', 'veth', 'peer', 'name', 'vb', 'netns', nsB);
    ip('-n', nsA, 'link', 'set', 'va', 'up');
    ip('-n', nsB, 'link', 'set', 'vb', 'up');
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

  it('reports carrier loss when the peer end goes down, and each change as it happens', async () => {
    const watch = new RtnetlinkLinkWatch({ netns: nsA, resyncMs: 60_000 });
    const seen: LinkStatus[] = [];
    let wake: () => void = () => undefined;
    const va = (links: readonly LinkStatus[]) => links.find((l) => l.name === 'va');
    const next = async (ok: (l: LinkStatus) => boolean): Promise<LinkStatus> => {
      const until = Date.now() + 10_000;
      for (;;) {
        const hit = seen.find(ok);
        if (hit) return hit;
        if (Date.now() > until) throw new Error(`no such link state within 10 s; seen ${JSON.stringify(seen)}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 200);
        });
      }
    };
    try {
      const first = await watch.watch((links) => {
        const l = va(links);
        if (l) seen.push(l);
        wake();
      });
      expect(va(first)).toMatchObject({ adminUp: true, carrier: true, operState: 'up', usable: true });
      expect(first.find((l) => l.name === 'lo')).toMatchObject({ adminUp: false, usable: false });

      ip('-n', nsB, 'link', 'set', 'vb', 'down');
      expect(await next((l) => !l.carrier)).toMatchObject({ adminUp: true, carrier: false, operState: 'down', usable: false });
      seen.length = 0;
      ip('-n', nsB, 'link', 'set', 'vb', 'up');
      expect(await next((l) => l.usable)).toMatchObject({ adminUp: true, carrier: true, operState: 'up' });
      seen.length = 0;
      ip('-n', nsA, 'link', 'set', 'va', 'down');
      expect(await next((l) => !l.adminUp)).toMatchObject({ usable: false, operState: 'down' });
    } finally {
      await watch.close();
    }
  });

  it('reports the addresses of each link as they come and go, IPv6 ones tentative until duplicate address detection is done', async () => {
    ip('-n', nsA, 'link', 'set', 'va', 'up');
    ip('-n', nsB, 'link', 'set', 'vb', 'up');
    const watch = new RtnetlinkLinkWatch({ netns: nsA, resyncMs: 60_000 });
    let last: LinkStatus | undefined;
    const until = async (what: string, ok: (l: LinkStatus) => boolean): Promise<LinkStatus> => {
      const end = Date.now() + 20_000;
      while (!last || !ok(last)) {
        if (Date.now() > end) throw new Error(`${what}: not within 20 s; last ${JSON.stringify(last)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return last;
    };
    const find = (l: LinkStatus, address: string) => l.addresses.find((a) => a.address === address);
    try {
      const first = await watch.watch((links) => {
        last = links.find((l) => l.name === 'va');
      });
      expect(first.find((l) => l.name === 'va')?.addresses.some((a) => a.address === '10.77.0.1')).toBe(false);

      ip('-n', nsA, 'addr', 'add', '10.77.0.1/24', 'dev', 'va');
      expect(find(await until('IPv4 address seen', (l) => find(l, '10.77.0.1') !== undefined), '10.77.0.1')).toEqual({
        address: '10.77.0.1',
        prefix: 24,
        family: 'inet',
        tentative: false,
      });

      // Without a carrier, duplicate address detection cannot start: the address stays tentative.
      ip('-n', nsB, 'link', 'set', 'vb', 'down');
      await until('carrier lost', (l) => !l.carrier);
      ip('-n', nsA, 'addr', 'add', 'FD00:77::0001/64', 'dev', 'va');
      expect(find(await until('IPv6 address seen', (l) => find(l, 'fd00:77::1') !== undefined), 'fd00:77::1')).toEqual({
        address: 'fd00:77::1',
        prefix: 64,
        family: 'inet6',
        tentative: true,
      });
      ip('-n', nsB, 'link', 'set', 'vb', 'up');
      await until('IPv6 address usable', (l) => find(l, 'fd00:77::1')?.tentative === false);

      ip('-n', nsA, 'addr', 'del', '10.77.0.1/24', 'dev', 'va');
      await until('IPv4 address gone', (l) => find(l, '10.77.0.1') === undefined);
    } finally {
      await watch.close();
    }
  });
});
