import { describe, expect, it } from 'vitest';
import { describeExit, inNamespace, parseListeningPorts } from './process.js';

const procNetTcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21233 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21234 1 0000000000000000 100 0 0 10 0
   2: 1500630A:0050 0A00630A:A2C4 01 00000000:00000000 00:00000000 00000000     0        0 21240 1 0000000000000000 20 4 30 10 -1
`;
const procNetTcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1BB7 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
`;

describe('parseListeningPorts', () => {
  it('lists the ports of sockets in state LISTEN only', () => {
    expect(parseListeningPorts(procNetTcp)).toEqual(new Set([80, 8080]));
    expect(parseListeningPorts(procNetTcp6)).toEqual(new Set([7095]));
    expect(parseListeningPorts('')).toEqual(new Set());
  });
});

describe('inNamespace', () => {
  it('wraps a command in ip netns exec, or leaves it alone for the own namespace', () => {
    expect(inNamespace('rs1', ['nginx', '-t'])).toEqual(['ip', 'netns', 'exec', 'rs1', 'nginx', '-t']);
    expect(inNamespace(null, ['true'])).toEqual(['true']);
  });
});

describe('describeExit', () => {
  it('says how a process ended', () => {
    expect(describeExit({ code: 3, signal: null })).toBe('exit 3');
    expect(describeExit({ code: null, signal: 'SIGKILL' })).toBe('killed by SIGKILL');
    expect(describeExit(null)).toBe('running');
  });
});
