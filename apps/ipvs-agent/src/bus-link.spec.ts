import { BusError } from '@fulcrum/bus';
import { memoryLogger } from '@fulcrum/testing';
import { describe, expect, it } from 'vitest';
import { attachRetrying } from './bus-link.js';

describe('attachRetrying', () => {
  it('retries bus failures with a warning until the attach succeeds', async () => {
    const { logger, records } = memoryLogger();
    let calls = 0;
    const value = await attachRetrying('following', logger, 1, () => false, async () => {
      calls += 1;
      if (calls < 3) throw new BusError('open bucket fulcrum-desired: no answer from NATS within 2000 ms');
      return 'attached';
    });
    expect(value).toBe('attached');
    expect(records.filter((r) => r.msg === 'following failed; retrying').map((r) => r.attempt)).toEqual([1, 2]);
  });

  it('other errors are not retried, and a stop ends the retries', async () => {
    const { logger } = memoryLogger();
    await expect(attachRetrying('x', logger, 1, () => false, async () => Promise.reject(new TypeError('bug')))).rejects.toThrow('bug');
    let stopped = false;
    const r = attachRetrying('x', logger, 1, () => stopped, async () => {
      stopped = true;
      throw new BusError('down');
    });
    await expect(r).rejects.toThrow('down');
  });
});
