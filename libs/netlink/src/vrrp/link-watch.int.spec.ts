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
});
