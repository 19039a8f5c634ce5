export { ProbeError } from './errors.js';
export type { PreparedTcpProbe, TcpProbeFailure, TcpProbeHandle, TcpProbeOutcome, TcpProbeTarget, TcpProber, TcpProberOptions } from './tcp-prober.js';
export { openTcpProber } from './tcp-prober.js';
export type { IcmpPinger, IcmpPingerOptions, PingOutcome, PingTarget, PreparedPing } from './icmp-pinger.js';
export { openIcmpPinger } from './icmp-pinger.js';
