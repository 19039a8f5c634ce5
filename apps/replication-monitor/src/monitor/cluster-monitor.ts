import type { Logger } from '@fulcrum/runtime';
import { assess, healthChanged } from './assess.js';
import type { ClusterShape, ClusterView, NodeHealth } from './assess.js';
import { HeartbeatLog } from './heartbeat.js';
import type { NodeProbe } from './probe.js';
import type { NodeSample } from './sample.js';

/** A view older than this many intervals no longer allows a heartbeat write. */
const FRESH_ROUNDS = 3;

export interface HealthChange {
  cluster: string;
  health: NodeHealth;
  previous: NodeHealth | null;
  /** Set when the observed primary changed in this round: the old one. */
  primaryWas: string | null;
}

export interface RoundReport {
  cluster: string;
  view: ClusterView;
  samples: ReadonlyMap<string, NodeSample>;
  durationMs: number;
}

export interface ClusterMonitorOptions {
  id: string;
  shape: ClusterShape;
  probes: readonly NodeProbe[];
  /** Poll round interval (the cluster's checkInterval) in ms. */
  intervalMs: number;
  /** Heartbeat write interval in ms; 0 = no heartbeat. */
  heartbeatMs: number;
  logger: Logger;
  onChange: (change: HealthChange) => void;
  onRound?: (report: RoundReport) => void;
  /** Asks Sentinel for the primary, when configured; null when it has no answer. */
  sentinelPrimary?: () => Promise<string | null>;
  now?: () => number;
}

/**
 * Polls every node of one cluster each interval (all at once, never two rounds overlapping), assesses the round
 * and reports each node whose health changed. Writes the heartbeat on the observed primary meanwhile.
 */
export class ClusterMonitor {
  private view: ClusterView | null = null;
  /** When the round behind `view` started polling: the heartbeat fence trusts only a recent round. */
  private viewAt = 0;
  private readonly heartbeats = new HeartbeatLog();
  private roundTimer: NodeJS.Timeout | null = null;
  private hbTimer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;
  private hbProblem: string | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: ClusterMonitorOptions) {
    this.now = opts.now ?? Date.now;
  }

  get id(): string {
    return this.opts.id;
  }

  /** The latest view, null before the first round. */
  get current(): ClusterView | null {
    return this.view;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      const started = this.now();
      this.running = this.round().finally(() => {
        this.running = null;
        if (!this.stopped) this.roundTimer = setTimeout(tick, Math.max(0, this.opts.intervalMs - (this.now() - started)));
      });
    };
    tick();
    if (this.opts.heartbeatMs > 0) this.heartbeatLoop();
  }

  /** One round now (the loop also calls it); exposed for specs and the bench. */
  async round(): Promise<ClusterView> {
    const started = this.now();
    const [samples, sentinel] = await Promise.all([
      Promise.all(this.opts.probes.map((p) => p.poll())),
      this.opts.sentinelPrimary ? this.opts.sentinelPrimary().catch(() => null) : Promise.resolve(null),
    ]);
    const byNode = new Map(samples.map((s) => [s.node, s]));
    const previous = this.view;
    const view = assess({
      cluster: this.opts.shape,
      samples: byNode,
      previous,
      sentinelPrimary: sentinel,
      heartbeatLag: (s) => {
        // Writes failing or the row unreadable: the heartbeat cannot say, and the replica's own figure is used.
        if (this.opts.heartbeatMs <= 0 || this.hbProblem !== null || s.heartbeat === undefined || s.heartbeatError) return null;
        const ms = this.heartbeats.lagMs(s.heartbeat, s.at);
        return ms === null ? null : ms / 1000;
      },
    });
    if (this.stopped) return view;
    this.view = view;
    this.viewAt = started;
    const primaryWas = previous && previous.primary !== view.primary ? previous.primary : null;
    if (primaryWas) {
      this.opts.logger.warn({ cluster: this.opts.id, primary: view.primary, was: primaryWas }, 'primary changed');
      this.heartbeats.reset();
    }
    for (const h of view.nodes.values()) {
      const before = previous?.nodes.get(h.node);
      if (healthChanged(before, h)) this.opts.onChange({ cluster: this.opts.id, health: h, previous: before ?? null, primaryWas });
    }
    this.opts.onRound?.({ cluster: this.opts.id, view, samples: byNode, durationMs: this.now() - started });
    return view;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.roundTimer) clearTimeout(this.roundTimer);
    if (this.hbTimer) clearTimeout(this.hbTimer);
    await this.running?.catch(() => undefined);
    await Promise.all(this.opts.probes.map((p) => p.close()));
  }

  private heartbeatLoop(): void {
    const beat = async () => {
      // No heartbeat before the first round or on an old one (rounds held up): only a recent observation that the
      // target is the one writable primary allows a write (see heartbeatTarget).
      const view = this.view;
      if (!view || this.now() - this.viewAt > FRESH_ROUNDS * this.opts.intervalMs) return;
      const primary = view.heartbeat.node;
      const probe = this.opts.probes.find((p) => p.node === primary);
      if (!probe) return;
      const ts = this.now();
      try {
        await probe.writeHeartbeat(ts);
        // Only a write the primary acknowledged counts: a replica cannot have applied one that never committed.
        if (this.view?.heartbeat.node === primary) this.heartbeats.acknowledged(ts);
        if (this.hbProblem) this.opts.logger.info({ cluster: this.opts.id, node: primary }, 'heartbeat written again');
        this.hbProblem = null;
      } catch (err) {
        const msg = (err as Error).message;
        if (this.hbProblem !== msg) {
          this.opts.logger.warn({ cluster: this.opts.id, node: primary, err }, 'heartbeat not written: lag falls back to what the replicas report');
        }
        this.hbProblem = msg;
      }
    };
    const loop = () => {
      if (this.stopped) return;
      const started = this.now();
      void beat().finally(() => {
        if (!this.stopped) this.hbTimer = setTimeout(loop, Math.max(0, this.opts.heartbeatMs - (this.now() - started)));
      });
    };
    loop();
  }
}
