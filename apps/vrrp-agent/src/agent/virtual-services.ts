import type { EventData, VirtualService } from '@fulcrum/schemas';

// Whether a tracked virtual service is up, from the health-checker's events: the weights of its
// live real servers must reach its quorum. Until a real server has been reported it counts as up
// (the health-checker has not spoken yet; faulting every instance at boot would be worse). A
// virtual service the desired state does not describe is up while any reported server is.

interface ServerHealth {
  up: boolean;
  weight: number | undefined;
}

const serverKey = (address: string, port: number) => `${address}|${port}`;

export class VirtualServiceHealth {
  private readonly services = new Map<string, VirtualService>();
  private readonly health = new Map<string, Map<string, ServerHealth>>();
  private readonly last = new Map<string, boolean>();

  isUp(id: string): boolean {
    const reports = this.health.get(id) ?? new Map<string, ServerHealth>();
    const vs = this.services.get(id);
    if (!vs) return reports.size === 0 || [...reports.values()].some((s) => s.up);
    let live = 0;
    for (const rs of vs.realServers) {
      const h = reports.get(serverKey(rs.address, rs.port));
      if (!h || h.up) live += h?.weight ?? rs.weight;
    }
    return live >= vs.quorum;
  }

  /** Records one health event; returns the virtual service's id if its up/down state changed. */
  onHealth(data: EventData<'health'>): string | null {
    const id = data.virtualService;
    const was = this.last.get(id) ?? this.isUp(id);
    const reports = this.health.get(id) ?? new Map<string, ServerHealth>();
    reports.set(serverKey(data.realServer.address, data.realServer.port), { up: data.state === 'up', weight: data.weight });
    this.health.set(id, reports);
    const now = this.isUp(id);
    this.last.set(id, now);
    return now === was ? null : id;
  }

  /** Replaces the known virtual services; returns the ids whose up/down state changed. */
  setServices(services: readonly VirtualService[]): string[] {
    const ids = new Set([...this.services.keys(), ...services.map((s) => s.id)]);
    const before = new Map([...ids].map((id) => [id, this.isUp(id)]));
    this.services.clear();
    for (const s of services) this.services.set(s.id, s);
    const changed = [...ids].filter((id) => this.isUp(id) !== before.get(id));
    for (const id of ids) this.last.set(id, this.isUp(id));
    return changed;
  }
}
