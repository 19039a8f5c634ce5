import type { ManagedServer } from '@fulcrum/testing';
import { freePort } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smtpCheck } from './smtp.js';
import { startRawServer, startSmtpd } from './testing/servers.js';

let smtpd: ManagedServer;
beforeAll(async () => {
  smtpd = await startSmtpd('mx.fulcrum.test');
});
afterAll(() => smtpd?.dispose());

describe('SMTP check against OpenSMTPD', () => {
  it('is up after the 220 banner and a 250 to HELO, and to EHLO', async () => {
    const at = { address: '127.0.0.1', port: smtpd.port };
    expect(await smtpCheck(at, { timeoutMs: 5000, heloName: 'director1.fulcrum.test' })).toMatchObject({ ok: true });
    expect(await smtpCheck(at, { timeoutMs: 5000, heloName: 'director1.fulcrum.test', ehlo: true })).toMatchObject({ ok: true });
  });

  it('fails refused when nothing listens', async () => {
    expect(await smtpCheck({ address: '127.0.0.1', port: await freePort() }, { timeoutMs: 1000 })).toMatchObject({ ok: false, reason: 'refused' });
  });
});

describe('SMTP check against misbehaving servers', () => {
  const withServer = async (onConnect: Parameters<typeof startRawServer>[0], run: (port: number) => Promise<void>) => {
    const srv = await startRawServer(onConnect);
    try {
      await run(srv.port);
    } finally {
      await srv.close();
    }
  };

  it('fails status on a 554 banner', () =>
    withServer(
      (s) => s.write('554 mx.fulcrum.test no service here\r\n'),
      async (port) => {
        expect(await smtpCheck({ address: '127.0.0.1', port }, { timeoutMs: 5000 })).toMatchObject({
          ok: false,
          reason: 'status',
          message: 'SMTP banner 554 "mx.fulcrum.test no service here", expected 220',
        });
      },
    ));

  it('fails status when HELO is refused', () =>
    withServer(
      (s) => {
        s.write('220 ok\r\n');
        s.on('data', () => s.write('501 5.5.4 bad helo\r\n'));
      },
      async (port) => {
        expect(await smtpCheck({ address: '127.0.0.1', port }, { timeoutMs: 5000 })).toMatchObject({ ok: false, reason: 'status', message: expect.stringMatching(/reply to HELO 501/) });
      },
    ));

  it('fails protocol on binary garbage and timeout on a silent server', async () => {
    await withServer(
      (s) => s.write(Buffer.from([0, 1, 2, 3, 0xff, 0x0a])),
      async (port) => expect(await smtpCheck({ address: '127.0.0.1', port }, { timeoutMs: 5000 })).toMatchObject({ ok: false, reason: 'protocol' }),
    );
    await withServer(
      () => undefined,
      async (port) =>
        expect(await smtpCheck({ address: '127.0.0.1', port }, { timeoutMs: 300 })).toMatchObject({
          ok: false,
          reason: 'timeout',
          message: 'no answer within 300 ms while waiting for the SMTP banner',
        }),
    );
  });

  it('fails too-large on a banner that never ends', () =>
    withServer(
      (s) => {
        const pump = () => {
          while (!s.destroyed && s.write('220-endless banner line\r\n'));
        };
        s.on('drain', pump);
        pump();
      },
      async (port) => expect(await smtpCheck({ address: '127.0.0.1', port }, { timeoutMs: 5000 })).toMatchObject({ ok: false, reason: 'too-large' }),
    ));

  it('refuses a HELO name that would inject a command', async () => {
    expect(await smtpCheck({ address: '127.0.0.1', port: smtpd.port }, { timeoutMs: 1000, heloName: 'x\r\nMAIL FROM:<a@b>' })).toMatchObject({
      ok: false,
      reason: 'error',
      message: expect.stringMatching(/is not a host name/),
    });
  });
});
