import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startNginx, type NginxServer } from './nginx.js';

describe('startNginx', () => {
  let server: NginxServer | undefined;
  afterEach(async () => {
    await server?.dispose();
    server = undefined;
  });

  it('serves each site on its own loopback port, with its files and directives', async () => {
    server = await startNginx({
      sites: [
        { files: { 'index.html': 'real1\n' } },
        { files: { 'index.html': 'real2\n', 'static/a.txt': 'A' }, directives: 'location = /health { return 503; }' },
      ],
    });
    const [one, two] = server.sites;
    expect(one?.port).not.toBe(two?.port);
    expect(await (await fetch(`${one?.url}/`)).text()).toBe('real1\n');
    expect(await (await fetch(`${two?.url}/`)).text()).toBe('real2\n');
    expect(await (await fetch(`${two?.url}/static/a.txt`)).text()).toBe('A');
    expect((await fetch(`${two?.url}/health`)).status).toBe(503);
    expect(existsSync(`${server.dir}/logs/access.log`)).toBe(true);

    await server.stop();
    await expect(fetch(`${one?.url}/`)).rejects.toThrow();
    await server.start();
    expect(await (await fetch(`${one?.url}/`)).text()).toBe('real1\n');
  });

  it('refuses a file path that escapes the site root', async () => {
    await expect(startNginx({ sites: [{ files: { '../x': 'no' } }] })).rejects.toThrow(/sites\[0\]\.files: \.\.\/x is outside/);
  });
});
