import { describe, expect, it } from 'vitest';
import { parseReplicationInfo } from './info.js';

describe('parseReplicationInfo', () => {
  it('reads a master with its replicas', () => {
    const info = parseReplicationInfo(
      '# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=127.0.0.1,port=7102,state=online,offset=144,lag=0\r\nmaster_repl_offset:251\r\n',
    );
    expect(info).toMatchObject({ role: 'master', connectedReplicas: 1, masterReplOffset: 251, replica: null });
    expect(info.replicas).toEqual([{ address: '127.0.0.1', port: 7102, state: 'online', offset: 144, lag: 0 }]);
  });

  it('reads a replica whose link is down, with how long', () => {
    const info = parseReplicationInfo(
      'role:slave\nmaster_host:10.0.0.1\nmaster_port:6379\nmaster_link_status:down\nmaster_link_down_since_seconds:12\nmaster_sync_in_progress:0\nslave_repl_offset:900\nmaster_repl_offset:900\n',
    );
    expect(info.replica).toMatchObject({ sourceHost: '10.0.0.1', sourcePort: 6379, ioRunning: false, sqlRunning: null, offset: 900 });
    expect(info.replica?.lastIoError).toBe('link to master 10.0.0.1:6379 down for 12 s');
  });
});
