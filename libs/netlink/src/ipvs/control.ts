import { release } from 'node:os';
import type { IpvsDestination, IpvsOp, IpvsService, IpvsServiceKey, IpvsTable, IpvsTimeouts } from '@fulcrum/schemas';
import { createGenericNetlink, genl } from 'netlink';
import { GenlChannel, NetlinkRequestError } from '../genl-channel.js';
import type { GenlChannelOptions } from '../genl-channel.js';
import { inNetns } from '../netns.js';
import { ApplyBackedIpvs, describeDaemon } from './apply-backed.js';
import { AttrWriter, Attrs } from './attrs.js';
import { DumpPipeline } from './dump-pipeline.js';
import type { DumpedService, IpvsDaemon, IpvsInfo } from './codec.js';
import {
  IPVS_CMD,
  IPVS_CMD_ATTR,
  IPVS_GENL_NAME,
  decodeDaemon,
  decodeDestination,
  decodeInfo,
  decodeService,
  decodeTimeouts,
  describeDestination,
  describeKey,
  genlPayload,
  serviceFamily,
  writeDaemon,
  writeDaemonState,
  writeDestination,
  writeDestinationKeyCommand,
  writeService,
  writeServiceKeyCommand,
  writeTimeouts,
} from './codec.js';
import type { IpvsOpName } from './errors.js';
import { IpvsError, IpvsUnavailableError, SchedulerUnavailableError } from './errors.js';

/** One write to the IPVS table, for apply(): the contract's IpvsOp. */
export type { IpvsOp };

export type IpvsOpResult = { op: IpvsOp; ok: true } | { op: IpvsOp; ok: false; error: IpvsError };

/** The whole table as one dump returned it, with counters. */
export interface IpvsDump {
  services: DumpedService[];
}

/**
 * The IPVS table of one network namespace. Writes take the schema types; `addService` adds the
 * service alone (its `destinations` are not touched), exactly one kernel operation per call.
 * Kernel refusals are IpvsError with the errno name (EEXIST, ESRCH, ENOENT, ...).
 */
export interface IpvsControl {
  info(): Promise<IpvsInfo>;
  /** The full table with counters: one service dump, then one destination dump per service, chained (DumpPipeline). */
  dump(): Promise<IpvsDump>;
  addService(service: IpvsService): Promise<void>;
  editService(service: IpvsService): Promise<void>;
  deleteService(key: IpvsServiceKey): Promise<void>;
  addDestination(key: IpvsServiceKey, destination: IpvsDestination): Promise<void>;
  editDestination(key: IpvsServiceKey, destination: IpvsDestination): Promise<void>;
  deleteDestination(key: IpvsServiceKey, destination: Pick<IpvsDestination, 'address' | 'port'>): Promise<void>;
  getTimeouts(): Promise<IpvsTimeouts>;
  /** A 0 leaves that timeout unchanged. */
  setTimeouts(timeouts: IpvsTimeouts): Promise<void>;
  startDaemon(daemon: IpvsDaemon): Promise<void>;
  stopDaemon(state: IpvsDaemon['state']): Promise<void>;
  listDaemons(): Promise<IpvsDaemon[]>;
  /** Zero the counters of one service (and its destinations) or of everything. */
  zero(key?: IpvsServiceKey): Promise<void>;
  flush(): Promise<void>;
  /** Many writes pipelined in order; every op gets a result, a failed op does not stop the rest. */
  apply(ops: readonly IpvsOp[]): Promise<IpvsOpResult[]>;
  close(): Promise<void>;
}

/** The dump as the schema's table (no counters). */
export function dumpToTable(dump: IpvsDump): IpvsTable {
  return {
    services: dump.services.map((s) => ({ ...s.service, destinations: s.destinations.map((d) => d.destination) })),
  };
}

export function describeOp(op: IpvsOp): string {
  switch (op.op) {
    case 'addService':
    case 'editService':
      return describeKey(op.service.key);
    case 'deleteService':
      return describeKey(op.key);
    case 'addDestination':
    case 'editDestination':
    case 'deleteDestination':
      return `${describeKey(op.key)} -> ${describeDestination(op.destination)}`;
    case 'zero':
      return op.key ? describeKey(op.key) : 'all services';
    case 'flush':
      return 'all services';
    case 'setTimeouts':
      return `timeouts tcp=${op.timeouts.tcp} tcpfin=${op.timeouts.tcpFin} udp=${op.timeouts.udp}`;
  }
}

/** Turns a kernel errno for an op into the typed error (ENOENT on a service write = missing scheduler). */
export function ipvsErrorFor(op: IpvsOp, errno: string, kernel: string, cause?: unknown): IpvsError {
  const object = describeOp(op);
  if (errno === 'ENOENT' && (op.op === 'addService' || op.op === 'editService')) {
    return new SchedulerUnavailableError(op.service.scheduler, kernel, op.op, object, {
      cause,
      persistenceEngine: op.service.persistenceEngine,
    });
  }
  return new IpvsError(errno, op.op, object, { cause });
}

function encodeOp(op: IpvsOp): Buffer {
  const w = new AttrWriter();
  switch (op.op) {
    case 'addService':
      writeService(w, op.service);
      return genlPayload(IPVS_CMD.NEW_SERVICE, w.toBuffer());
    case 'editService':
      writeService(w, op.service);
      return genlPayload(IPVS_CMD.SET_SERVICE, w.toBuffer());
    case 'deleteService':
      writeServiceKeyCommand(w, op.key);
      return genlPayload(IPVS_CMD.DEL_SERVICE, w.toBuffer());
    case 'addDestination':
      writeServiceKeyCommand(w, op.key);
      writeDestination(w, op.destination);
      return genlPayload(IPVS_CMD.NEW_DEST, w.toBuffer());
    case 'editDestination':
      writeServiceKeyCommand(w, op.key);
      writeDestination(w, op.destination);
      return genlPayload(IPVS_CMD.SET_DEST, w.toBuffer());
    case 'deleteDestination':
      writeServiceKeyCommand(w, op.key);
      writeDestinationKeyCommand(w, op.destination);
      return genlPayload(IPVS_CMD.DEL_DEST, w.toBuffer());
    case 'zero':
      if (op.key) writeServiceKeyCommand(w, op.key);
      return genlPayload(IPVS_CMD.ZERO, w.toBuffer());
    case 'flush':
      return genlPayload(IPVS_CMD.FLUSH, w.toBuffer());
    case 'setTimeouts':
      writeTimeouts(w, op.timeouts);
      return genlPayload(IPVS_CMD.SET_CONFIG, w.toBuffer());
  }
}

export interface NetlinkIpvsOptions extends Omit<GenlChannelOptions, 'netns'> {
  /** Named network namespace (/run/netns/<name>) whose IPVS table to drive; default: the caller's. */
  netns?: string;
  /** Sockets for the per-service destination dumps, one dump in flight on each (default 1; see DumpPipeline). */
  dumpSockets?: number;
}

/** Looks up the IPVS generic-netlink family; IpvsUnavailableError when the kernel has none. */
async function resolveFamily(netns: string | undefined): Promise<number> {
  const open = () => createGenericNetlink();
  const sock = netns ? inNetns(netns, open) : open();
  try {
    const replies = await sock.ctrlRequest(genl.Commands.GET_FAMILY, { familyName: IPVS_GENL_NAME }, { timeout: 5000 });
    const id = replies[0]?.familyId;
    if (id === undefined) throw new IpvsUnavailableError({ detail: 'the controller answered without a family id' });
    return id;
  } catch (err) {
    if (err instanceof IpvsUnavailableError) throw err;
    if (err instanceof Error && /ENOENT/.test(err.message)) throw new IpvsUnavailableError({ cause: err });
    throw new IpvsUnavailableError({ cause: err, detail: `family lookup failed: ${err instanceof Error ? err.message : String(err)}` });
  } finally {
    sock.socket.close();
  }
}

/** IpvsControl on the kernel's IPVS generic-netlink family. Create with `NetlinkIpvs.open()`. */
export class NetlinkIpvs extends ApplyBackedIpvs implements IpvsControl {
  private readonly kernel = release();
  private dumper: DumpPipeline | null = null;
  /** dump() calls run one after the other: each socket holds one dump at a time. */
  private dumping: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly family: number,
    private readonly main: GenlChannel,
    private readonly opts: NetlinkIpvsOptions,
  ) {
    super();
  }

  static async open(opts: NetlinkIpvsOptions = {}): Promise<NetlinkIpvs> {
    const family = await resolveFamily(opts.netns);
    return new NetlinkIpvs(family, new GenlChannel(opts), opts);
  }

  private async query(opName: IpvsOpName, cmd: number, attrs: Buffer, dump: boolean): Promise<Buffer[]> {
    try {
      const replies = await this.main.request(this.family, genlPayload(cmd, attrs), { dump });
      return replies.map((r) => r.subarray(4)); // drop the genl header
    } catch (err) {
      if (err instanceof NetlinkRequestError) throw new IpvsError(err.code, opName, 'IPVS', { cause: err });
      throw err;
    }
  }

  async apply(ops: readonly IpvsOp[]): Promise<IpvsOpResult[]> {
    const results = await this.main.batch(this.family, ops.map(encodeOp));
    return results.map((r, i) => {
      const op = ops[i] as IpvsOp;
      return r.ok ? { op, ok: true } : { op, ok: false, error: ipvsErrorFor(op, r.error.code, this.kernel, r.error) };
    });
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    const [reply] = await this.query('getTimeouts', IPVS_CMD.GET_CONFIG, Buffer.alloc(0), false);
    return decodeTimeouts(reply ?? Buffer.alloc(0));
  }

  async info(): Promise<IpvsInfo> {
    const [reply] = await this.query('info', IPVS_CMD.GET_INFO, Buffer.alloc(0), false);
    return decodeInfo(reply ?? Buffer.alloc(0));
  }

  async startDaemon(daemon: IpvsDaemon): Promise<void> {
    const w = new AttrWriter();
    writeDaemon(w, daemon);
    await this.daemonWrite('startDaemon', IPVS_CMD.NEW_DAEMON, w.toBuffer(), describeDaemon(daemon));
  }

  async stopDaemon(state: IpvsDaemon['state']): Promise<void> {
    const w = new AttrWriter();
    writeDaemonState(w, state);
    await this.daemonWrite('stopDaemon', IPVS_CMD.DEL_DAEMON, w.toBuffer(), describeDaemon({ state }));
  }

  private async daemonWrite(op: IpvsOpName, cmd: number, attrs: Buffer, object: string): Promise<void> {
    const [r] = await this.main.batch(this.family, [genlPayload(cmd, attrs)]);
    if (r && !r.ok) throw new IpvsError(r.error.code, op, object, { cause: r.error });
  }

  async listDaemons(): Promise<IpvsDaemon[]> {
    const replies = await this.query('listDaemons', IPVS_CMD.GET_DAEMON, Buffer.alloc(0), true);
    return replies.map((r) => decodeDaemon(Attrs.parse(r, 'daemon message').payload(IPVS_CMD_ATTR.DAEMON, 'DAEMON')));
  }

  dump(): Promise<IpvsDump> {
    const run = this.dumping.then(() => this.dumpNow());
    this.dumping = run.catch(() => undefined);
    return run;
  }

  private async dumpNow(): Promise<IpvsDump> {
    const replies = await this.query('dump', IPVS_CMD.GET_SERVICE, Buffer.alloc(0), true);
    const services: DumpedService[] = replies.map((r) => {
      const { service, stats } = decodeService(serviceAttr(r));
      return { service, stats, destinations: [] };
    });
    // The kernel has no "all destinations" dump: one per service, several in flight.
    const requests = services.map((s) => {
      const w = new AttrWriter();
      writeServiceKeyCommand(w, s.service.key);
      return genlPayload(IPVS_CMD.GET_DEST, w.toBuffer());
    });
    let dests: Buffer[][];
    try {
      dests = await this.destinationDumper().dumpAll(this.family, requests);
    } catch (err) {
      if (err instanceof NetlinkRequestError) throw new IpvsError(err.code, 'dump', 'IPVS destinations', { cause: err });
      throw err;
    }
    services.forEach((s, i) => {
      const family = serviceFamily(s.service.key);
      s.destinations = (dests[i] ?? []).map((d) => decodeDestination(destAttr(d.subarray(4)), family)); // past the genl header
      s.service.destinations = s.destinations.map((d) => d.destination);
    });
    return { services };
  }

  private destinationDumper(): DumpPipeline {
    if (!this.dumper || this.dumper.failed) {
      this.dumper?.close();
      this.dumper = new DumpPipeline({ ...(this.opts.netns ? { netns: this.opts.netns } : {}), width: this.opts.dumpSockets ?? 1 });
    }
    return this.dumper;
  }

  async close(): Promise<void> {
    this.main.close();
    this.dumper?.close();
    this.dumper = null;
  }
}

function serviceAttr(reply: Buffer): Buffer {
  return Attrs.parse(reply, 'service message').payload(IPVS_CMD_ATTR.SERVICE, 'SERVICE');
}
function destAttr(reply: Buffer): Buffer {
  return Attrs.parse(reply, 'destination message').payload(IPVS_CMD_ATTR.DEST, 'DEST');
}
