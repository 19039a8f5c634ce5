import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  COMMAND_ERROR_CODES,
  commandReply,
  drainRealServer,
  errorReply,
  okReply,
  setSyncDaemon,
  syncDaemonRequest,
} from './commands.js';
import { subjectFor, subjectPattern } from './contract.js';
import { checkContract } from './issues.js';

describe('commands', () => {
  it('are request/reply subjects addressed to one host', () => {
    expect(Object.values(COMMANDS).map((c) => c.name)).toEqual([
      'fulcrum.cmd.realserver-drain.{host}',
      'fulcrum.cmd.realserver-enable.{host}',
      'fulcrum.cmd.vrrp-failover.{host}',
      'fulcrum.cmd.config-reload.{host}',
      'fulcrum.cmd.ipvs-sync-daemon.{host}',
    ]);
    expect(subjectFor(drainRealServer.name, { host: 'director1' })).toBe('fulcrum.cmd.realserver-drain.director1');
    expect(subjectPattern(drainRealServer.name)).toBe('fulcrum.cmd.realserver-drain.*');
  });

  it('validate requests with plain-words errors', () => {
    expect(drainRealServer.request.parse({ virtualService: 'web', address: '2001:DB8::1', port: 80 })).toEqual({
      virtualService: 'web',
      address: '2001:db8::1',
      port: 80,
    });
    expect(checkContract(drainRealServer.request, { virtualService: 'web', address: '10.0.1.1' })).toEqual({
      ok: false,
      issues: [{ path: 'port', message: 'is required' }],
    });
  });

  it('the sync daemon request needs an interface unless it stops the daemon', () => {
    expect(setSyncDaemon.request.parse({ role: 'master', interface: 'eth0' })).toEqual({ role: 'master', interface: 'eth0', syncId: 0 });
    expect(syncDaemonRequest.parse({ role: 'stopped' })).toEqual({ role: 'stopped' });
    expect(checkContract(syncDaemonRequest, { role: 'backup' })).toEqual({ ok: false, issues: [{ path: 'interface', message: 'is required' }] });
    expect(checkContract(syncDaemonRequest, { role: 'both', interface: 'eth0' })).toEqual({
      ok: false,
      issues: [{ path: 'role', message: 'must be one of: master, backup, stopped' }],
    });
  });

  it('replies are ok + message or an error code + message', () => {
    expect(commandReply.parse(okReply('drained 10.0.1.1:80'))).toEqual({ ok: true, message: 'drained 10.0.1.1:80' });
    expect(commandReply.parse(errorReply('NOT_FOUND', 'no virtual service web'))).toEqual({ ok: false, code: 'NOT_FOUND', message: 'no virtual service web' });
    expect(checkContract(commandReply, { ok: false, code: 'OOPS', message: 'x' })).toEqual({
      ok: false,
      issues: [{ path: 'code', message: `must be one of: ${Object.keys(COMMAND_ERROR_CODES).join(', ')}` }],
    });
    expect(checkContract(commandReply, { ok: true, message: 'x', code: 'INTERNAL' })).toEqual({
      ok: false,
      issues: [{ path: 'code', message: 'is not a known field (check its spelling)' }],
    });
  });

  it('every error code is documented', () => {
    for (const [code, doc] of Object.entries(COMMAND_ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z_]+$/);
      expect(doc.length).toBeGreaterThan(20);
    }
  });
});
