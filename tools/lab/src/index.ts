// @fulcrum/lab: network-namespace topologies and helpers for specs that run inside the lab VM
// (*.kernel.spec.ts), or on the host where only namespaces, veth and bridges are needed.
// The VM itself is the `lab` command (bin/lab.mjs); see README.md.

export { buildTopology, TopologyBuildError, type BuildOptions, type Topology } from './topology/build.js';
export { downScript, namespacesOf, shellQuote, upScript } from './topology/plan.js';
export {
  natAddresses,
  natTopology,
  seedsAddresses,
  seedsTopology,
  topologies,
  type SeedsOptions,
} from './topology/shapes.js';
export {
  addressOf,
  namespaceOf,
  parseTopology,
  switchNode,
  TopologyError,
  type InterfaceSpec,
  type NodeSpec,
  type RouteSpec,
  type TopologyInput,
  type TopologySpec,
} from './topology/spec.js';
export {
  CommandError,
  describeExit,
  inNamespace,
  LabProcess,
  LabProcessError,
  listeningTcpPorts,
  runIn,
  spawnIn,
  type Exit,
  type RunOptions,
  type RunResult,
  type SpawnOptions,
} from './netns/process.js';
export { httpGetMany, HttpProbeError, nginxConfig, startNginx, tally, type NginxOptions } from './netns/http.js';
export { directorModules, inLab, loadedModules, modprobe, NotInLabError, requireLab } from './kernel.js';
