// Test helpers for the vrrp-agent: a namespace test bed with agents, keepalived and a UDP probe.
export * from './lan.js';
export * from './in-memory.js';
