import type { IpvsControl, IpvsDaemon } from '@fulcrum/netlink';
import { IpvsError } from '@fulcrum/netlink';
import type { CommandReply, SyncDaemonRequest } from '@fulcrum/schemas';
import { errorReply, okReply } from '@fulcrum/schemas';

// The IPVS connection-sync role the vrrp-agent asks for: the VRRP master sends its connection
// table (master daemon), the backup receives it (backup daemon), so open connections survive a
// takeover. A director runs one role at a time here; asking again for what runs is a no-op.

const describe = (d: Pick<IpvsDaemon, 'state' | 'interface' | 'syncId'>) => `${d.state} sync daemon on ${d.interface} (syncid ${d.syncId})`;

export async function setSyncDaemonRole(ipvs: IpvsControl, req: SyncDaemonRequest): Promise<CommandReply> {
  try {
    const running = await ipvs.listDaemons();
    if (req.role === 'stopped') {
      for (const d of running) await ipvs.stopDaemon(d.state);
      return okReply(running.length === 0 ? 'no sync daemon was running' : `stopped ${running.map(describe).join(', ')}`);
    }
    const want = { state: req.role, interface: req.interface, syncId: req.syncId };
    const same = running.find((d) => d.state === want.state && d.interface === want.interface && d.syncId === want.syncId);
    const stopped: string[] = [];
    for (const d of running) {
      if (d === same) continue;
      await ipvs.stopDaemon(d.state);
      stopped.push(describe(d));
    }
    if (same && stopped.length === 0) return okReply(`${describe(want)} already running`);
    if (!same) await ipvs.startDaemon(want);
    return okReply(`${describe(want)} running${stopped.length > 0 ? `; stopped ${stopped.join(', ')}` : ''}`);
  } catch (err) {
    if (err instanceof IpvsError) {
      const code = err.errno === 'ENODEV' || err.errno === 'EINVAL' ? 'INVALID_REQUEST' : 'INTERNAL';
      return errorReply(code, `sync daemon: ${err.message}`.slice(0, 1000));
    }
    return errorReply('UNAVAILABLE', `sync daemon: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000));
  }
}
