import { describe, expect, it } from 'vitest';
import { AttrWriter, Attrs } from './ipvs/attrs.js';
import { GenlChannel, NetlinkRequestError } from './genl-channel.js';

// The batching machinery against a generic-netlink family every Linux kernel has: the controller
// (nlctrl, id 16). GETFAMILY for an unknown name fails with ENOENT, for a known one it answers
// (names over 15 characters are EINVAL: GENL_NAMSIZ).
const GENL_ID_CTRL = 16;
const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_ID = 1;
const CTRL_ATTR_FAMILY_NAME = 2;

function getFamily(name: string): Buffer {
  const head = Buffer.from([CTRL_CMD_GETFAMILY, 1, 0, 0]);
  return Buffer.concat([head, new AttrWriter().string(CTRL_ATTR_FAMILY_NAME, name).toBuffer()]);
}

describe('GenlChannel on the real kernel', () => {
  it('pipelines a thousand requests in batches and pins each failure on the right request', async () => {
    const ch = new GenlChannel({ batchSize: 64, window: 4 });
    try {
      const names = Array.from({ length: 1000 }, (_, i) => (i % 7 === 3 ? `nf-${i}` : 'nlctrl'));
      const results = await ch.batch(GENL_ID_CTRL, names.map(getFamily));
      expect(results).toHaveLength(1000);
      const failed = results.flatMap((r, i) => (r.ok ? [] : [[i, r.error.code]]));
      expect(failed).toEqual(names.flatMap((n, i) => (n === 'nlctrl' ? [] : [[i, 'ENOENT']])));
    } finally {
      ch.close();
    }
  });

  it('a single request returns the reply; an error carries the errno name', async () => {
    const ch = new GenlChannel();
    try {
      const [reply] = await ch.request(GENL_ID_CTRL, getFamily('nlctrl'));
      expect(Attrs.parse((reply as Buffer).subarray(4), 'family').u16(CTRL_ATTR_FAMILY_ID, 'FAMILY_ID')).toBe(GENL_ID_CTRL);
      const err = await ch.request(GENL_ID_CTRL, getFamily('nf-none')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NetlinkRequestError);
      expect((err as NetlinkRequestError).code).toBe('ENOENT');
    } finally {
      ch.close();
    }
  });

  it('a dump collects every part up to DONE', async () => {
    const ch = new GenlChannel();
    try {
      const replies = await ch.request(GENL_ID_CTRL, Buffer.from([CTRL_CMD_GETFAMILY, 1, 0, 0]), { dump: true });
      const names = replies.map((r) => Attrs.parse(r.subarray(4), 'family').string(CTRL_ATTR_FAMILY_NAME, 'FAMILY_NAME'));
      expect(names).toContain('nlctrl');
      expect(names.length).toBeGreaterThan(1);
    } finally {
      ch.close();
    }
  });

  it('refuses use after close with a clear error', async () => {
    const ch = new GenlChannel();
    ch.close();
    await expect(ch.batch(GENL_ID_CTRL, [getFamily('nlctrl')])).rejects.toThrow(/closed/);
  });
});
