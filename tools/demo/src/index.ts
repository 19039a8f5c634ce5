// @fulcrum/demo: the seeds' cluster on Fulcrum in the lab (`npm run demo`), and its scenario for the
// acceptance kernel specs.
export { addresses, bigFile, nginxConf, type Cluster, type ClusterOptions, DemoError, type Director, repoRoot, startCluster, unitCommand, until } from './cluster.js';
export { answersFrom, outageSince, parseProbe, parseWrk, type Outage, type ProbeRecord, startProbe, wrk } from './measure.js';
export { runScenario, summaryTable, type ScenarioOptions, type StepResult } from './scenario.js';
export { importKeepalived, waitReady } from './setup.js';
