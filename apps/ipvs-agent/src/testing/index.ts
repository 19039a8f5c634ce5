export { CountingIpvs } from './counting-ipvs.js';
