import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { InMemoryIpvs } from '@fulcrum/netlink/testing';
import { memoryLogger } from '@fulcrum/testing';
import { describe, expect, it } from 'vitest';
import type { IpvsAgentConfig } from '../config.js';
import { configSchema } from '../config.js';
import { commands } from './commands.js';

const RULES = `-A -t 10.0.0.1:80 -s wrr
-a -t 10.0.0.1:80 -r 10.0.1.1:80 -g -w 3
-a -t 10.0.0.1:80 -r 10.0.1.2:80 -g -w 1
-A -u 10.0.0.2:53 -s rr
-a -u 10.0.0.2:53 -r 10.0.1.3:53 -m -w 1
`;

function run(kernel: InMemoryIpvs, name: 'dump' | 'apply', positionals: string[], values: Record<string, boolean> = {}) {
  let out = '';
  const stdout = new Writable({ write: (chunk: Buffer, _e, cb) => ((out += chunk.toString()), cb()) });
  const config: IpvsAgentConfig = configSchema.parse({});
  const cmd = commands(async () => kernel)[name];
  if (!cmd) throw new Error(`no command ${name}`);
  return cmd.run({ config, logger: memoryLogger().logger, stdout, args: { command: name, config: undefined, values, positionals } }).then((code) => ({ code, out }));
}

const file = (text: string) => {
  const p = join(mkdtempSync(join(tmpdir(), 'ipvs-apply-')), 'rules');
  writeFileSync(p, text);
  return p;
};

describe('ipvs-agent apply and dump', () => {
  it('dry run prints the ipvsadm commands and writes nothing; apply writes them; dump prints ipvsadm-save text', async () => {
    const kernel = new InMemoryIpvs();
    const dry = await run(kernel, 'apply', [file(RULES)], { 'dry-run': true });
    expect(dry.out).toBe(
      [
        'ipvsadm -A -t 10.0.0.1:80 -s wrr',
        'ipvsadm -A -u 10.0.0.2:53 -s rr',
        'ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:80 -g -w 3',
        'ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.2:80 -g -w 1',
        'ipvsadm -a -u 10.0.0.2:53 -r 10.0.1.3:53 -m -w 1',
        '# 5 added, 0 updated, 0 removed (5 operations); dry run, nothing applied',
        '',
      ].join('\n'),
    );
    expect(kernel.writeCount).toBe(0);
    expect((await run(kernel, 'apply', [file(RULES)])).code).toBe(0);
    expect(kernel.writeCount).toBe(5);
    const dump = await run(kernel, 'dump', []);
    expect(dump.out).toBe(RULES);
  });

  it('a changed weight is one edit; a service left out of the file is removed', async () => {
    const kernel = new InMemoryIpvs();
    await run(kernel, 'apply', [file(RULES)]);
    const changed = RULES.replace('-w 3', '-w 5').split('\n').slice(0, 3).join('\n');
    const r = await run(kernel, 'apply', [file(changed)]);
    expect(r.out).toBe(['ipvsadm -e -t 10.0.0.1:80 -r 10.0.1.1:80 -g -w 5', 'ipvsadm -D -u 10.0.0.2:53', '# 0 added, 1 updated, 1 removed (2 operations)', ''].join('\n'));
  });

  it('dump --json has the counters', async () => {
    const kernel = new InMemoryIpvs();
    await run(kernel, 'apply', [file(RULES)]);
    kernel.setStats({ kind: 'addr', protocol: 'tcp', address: '10.0.0.1', port: 80 }, { conns: 4n });
    const parsed = JSON.parse((await run(kernel, 'dump', [], { json: true })).out) as { services: { stats: { conns: number }; destinations: { activeConns: number }[] }[] };
    expect(parsed.services.map((s) => s.stats.conns).sort()).toEqual([0, 4]);
    expect(parsed.services[0]?.destinations[0]).toHaveProperty('activeConns', 0);
  });

  it('a bad file is a usage error naming the line', async () => {
    await expect(run(new InMemoryIpvs(), 'apply', [file('-A -t 10.0.0.1:80 -s nope\n')])).rejects.toThrow(/line 1/);
    await expect(run(new InMemoryIpvs(), 'apply', [])).rejects.toThrow('apply takes one FILE');
  });
});
