import { InMemoryIpvs } from '@fulcrum/netlink/testing';
import { describe, expect, it } from 'vitest';
import { setSyncDaemonRole } from './sync-daemon.js';

describe('setSyncDaemonRole', () => {
  it('backup -> master swaps the daemons; the same request twice starts nothing; stopped stops all', async () => {
    const ipvs = new InMemoryIpvs();
    expect(await setSyncDaemonRole(ipvs, { role: 'backup', interface: 'eth0', syncId: 7 })).toEqual({ ok: true, message: 'backup sync daemon on eth0 (syncid 7) running' });
    expect(await setSyncDaemonRole(ipvs, { role: 'master', interface: 'eth0', syncId: 7 })).toEqual({
      ok: true,
      message: 'master sync daemon on eth0 (syncid 7) running; stopped backup sync daemon on eth0 (syncid 7)',
    });
    expect(await ipvs.listDaemons()).toEqual([expect.objectContaining({ state: 'master', interface: 'eth0', syncId: 7 })]);
    const writes = ipvs.daemonWrites;
    expect(await setSyncDaemonRole(ipvs, { role: 'master', interface: 'eth0', syncId: 7 })).toMatchObject({ ok: true, message: expect.stringContaining('already running') });
    expect(ipvs.daemonWrites).toBe(writes);
    // A different sync id restarts it.
    await setSyncDaemonRole(ipvs, { role: 'master', interface: 'eth0', syncId: 9 });
    expect(await ipvs.listDaemons()).toEqual([expect.objectContaining({ state: 'master', syncId: 9 })]);
    expect(await setSyncDaemonRole(ipvs, { role: 'stopped' })).toMatchObject({ ok: true, message: 'stopped master sync daemon on eth0 (syncid 9)' });
    expect(await ipvs.listDaemons()).toEqual([]);
  });
});
