export * from './contract.js';
export * from './ipvs-table.js';
