import { createHash } from 'node:crypto';
import { freePort } from '@fulcrum/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRawServer } from '../checks/testing/servers.js';
import { genhashMain } from './cli.js';

const BODY = 'hello from a real server\n';
let server: Awaited<ReturnType<typeof startRawServer>>;
beforeAll(async () => {
  server = await startRawServer((s) =>
    s.once('data', (req: Buffer) => {
      const host = /^Host: (.*)\r$/m.exec(req.toString('latin1'))?.[1] ?? '';
      s.end(`HTTP/1.0 200 OK\r\nContent-Length: ${BODY.length}\r\nX-Host: ${host}\r\n\r\n${BODY}`);
    }),
  );
});
afterAll(() => server.close());

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await genhashMain(args, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
  return { code, out, err };
}

describe('genhash command', () => {
  it('prints only the MD5 of the body on stdout', async () => {
    expect(await run(['--url', `http://127.0.0.1:${server.port}/`])).toEqual({ code: 0, out: `${createHash('md5').update(BODY).digest('hex')}\n`, err: '' });
  });

  it('with --verbose prints the header first and the digest last, and sends the virtualhost', async () => {
    const r = await run(['--url', `http://127.0.0.1:${server.port}/x`, '--virtualhost', 'www.fulcrum.test', '--verbose']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^HTTP\/1\.0 200 OK\r\n/);
    expect(r.out).toMatch(/X-Host: www\.fulcrum\.test/);
    expect(r.out.trimEnd().split('\n').at(-1)).toBe(createHash('md5').update(BODY).digest('hex'));
  });

  it('exits 1 with the reason when the server cannot be reached', async () => {
    const r = await run(['--url', `http://127.0.0.1:${await freePort()}/`, '--timeout', '1']);
    expect(r).toMatchObject({ code: 1, out: '' });
    expect(r.err).toMatch(/^genhash: http:\/\/127\.0\.0\.1:\d+\/: refused: connection refused by/);
  });

  it.each([
    [[], /--url is required/],
    [['--url', 'http://real1.example/'], /host must be an IP address/],
    [['--url', 'ftp://127.0.0.1/'], /scheme must be http or https, not ftp/],
    [['--url', 'http://127.0.0.1/', '--http-version', '2'], /--http-version must be 1.0 or 1.1, not 2/],
    [['--url', 'http://127.0.0.1/', '--timeout', 'soon'], /--timeout must be a positive number, not "soon"/],
    [['--url', 'http://127.0.0.1/', '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 with usage on %j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });
});
