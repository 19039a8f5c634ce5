export { CountingIpvs } from './counting-ipvs.js';
export { dbCluster, dbPool, replicationEvent, weightsByPort } from './replication-fixture.js';
