import { describe, expect, it } from 'vitest';
import { GenlChannel, NetlinkRequestError } from '../genl-channel.js';
import { Attrs } from './attrs.js';
import { DumpPipeline } from './dump-pipeline.js';

// The pipeline against a generic-netlink family every Linux kernel has, the controller (nlctrl,
// id 16): its family dump comes in several parts, like a large destination dump.
const GENL_ID_CTRL = 16;
const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_NAME = 2;
const familyDump = () => Buffer.from([CTRL_CMD_GETFAMILY, 1, 0, 0]);
const names = (replies: Buffer[]) => replies.map((r) => Attrs.parse(r.subarray(4), 'family').string(CTRL_ATTR_FAMILY_NAME, 'FAMILY_NAME'));

describe('DumpPipeline on the real kernel', () => {
  it('runs many dumps, several in flight, and returns every one whole and in order', async () => {
    const ch = new GenlChannel();
    const pipeline = new DumpPipeline({ width: 4 });
    try {
      const expected = names(await ch.request(GENL_ID_CTRL, familyDump(), { dump: true }));
      expect(expected).toContain('nlctrl');
      for (let round = 0; round < 2; round++) {
        const results = await pipeline.dumpAll(GENL_ID_CTRL, Array.from({ length: 200 }, familyDump));
        expect(results).toHaveLength(200);
        for (const r of results) expect(names(r)).toEqual(expected);
      }
      expect(await pipeline.dumpAll(GENL_ID_CTRL, [])).toEqual([]);
    } finally {
      pipeline.close();
      ch.close();
    }
  });

  it('a refused dump fails the run with the errno name, and the pipeline says it is spent', async () => {
    const pipeline = new DumpPipeline({ width: 2 });
    try {
      const unknownCommand = Buffer.from([250, 1, 0, 0]);
      const err = await pipeline.dumpAll(GENL_ID_CTRL, [familyDump(), unknownCommand, familyDump()]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NetlinkRequestError);
      expect((err as NetlinkRequestError).code).toBe('EOPNOTSUPP');
      expect(pipeline.failed).toBe(true);
      await expect(pipeline.dumpAll(GENL_ID_CTRL, [familyDump()])).rejects.toThrow(NetlinkRequestError);
    } finally {
      pipeline.close();
    }
  });

  it('refuses a width that is not a positive integer, and use after close', async () => {
    expect(() => new DumpPipeline({ width: 0 })).toThrow(/positive integer/);
    const pipeline = new DumpPipeline({ width: 1 });
    pipeline.close();
    await expect(pipeline.dumpAll(GENL_ID_CTRL, [familyDump()])).rejects.toThrow(/closed/);
  });
});
