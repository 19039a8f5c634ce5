// Test helpers for @fulcrum/vrrp users: real keepalived packets and a simulated segment.
export * from './keepalived-fixtures.js';
export * from './simulated-lan.js';
