import { Redis } from 'ioredis';

export interface SentinelOptions {
  masterName: string;
  nodes: readonly { address: string; port: number }[];
  password?: string | undefined;
  timeoutMs: number;
}

/**
 * Asks the Sentinels, in order, which address is the master of `masterName`; the first answer wins. Sentinel
 * decides Redis failovers, so its answer is the topology (the monitor only observes it).
 */
export class SentinelView {
  private readonly clients: Redis[];

  constructor(private readonly opts: SentinelOptions) {
    this.clients = opts.nodes.map(
      (n) =>
        new Redis({
          host: n.address,
          port: n.port,
          ...(opts.password ? { password: opts.password } : {}),
          connectTimeout: opts.timeoutMs,
          commandTimeout: opts.timeoutMs,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          lazyConnect: true,
          retryStrategy: () => Math.max(100, opts.timeoutMs),
        }),
    );
    for (const c of this.clients) {
      c.on('error', () => undefined);
      c.connect().catch(() => undefined);
    }
  }

  async master(): Promise<{ address: string; port: number } | null> {
    for (const c of this.clients) {
      if (c.status !== 'ready') continue;
      try {
        const reply = (await c.call('SENTINEL', 'get-master-addr-by-name', this.opts.masterName)) as [string, string] | null;
        if (reply) return { address: reply[0], port: Number(reply[1]) };
      } catch {
        // The next Sentinel may know.
      }
    }
    return null;
  }

  close(): void {
    for (const c of this.clients) c.disconnect();
  }
}
