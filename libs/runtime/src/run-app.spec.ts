import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AppDefinition, type AppIo, runCommands, runService } from './run-app.js';
import { logConfig, serviceConfig } from './service-config.js';

/** In-memory stdout/stderr and a process whose exit resolves `exited`. */
function fakeIo(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const text = { stdout: '', stderr: '' };
  const sink = (key: 'stdout' | 'stderr') =>
    new Writable({
      write(chunk: Buffer, _e, done) {
        text[key] += chunk.toString();
        done();
      },
    });
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolveExit = r));
  const events = new EventEmitter();
  const io: AppIo = {
    argv,
    env: { FULCRUM_LOG__LEVEL: 'silent', FULCRUMCTL_LOG__LEVEL: 'silent', ...env },
    stdout: sink('stdout'),
    stderr: sink('stderr'),
    process: { on: (e, l) => void events.on(e, l), off: (e, l) => void events.off(e, l), exit: (code) => resolveExit(code) },
  };
  return { io, text, exited, events };
}

const cliSchema = z.object({ log: logConfig.prefault({}), api: z.object({ token: z.string().optional() }).strict().prefault({}) }).strict();
const cli: AppDefinition<typeof cliSchema> = {
  name: 'fulcrumctl',
  summary: 'operate Fulcrum',
  version: '9.9.9',
  configSchema: cliSchema,
  envPrefix: 'FULCRUMCTL_',
  commands: {
    drain: {
      summary: 'drain a real server',
      args: 'SERVER',
      options: { wait: { type: 'boolean', description: 'wait until no connections are left' } },
      async run({ args, stdout, config }) {
        if (args.positionals.length !== 1) return 2;
        stdout.write(`draining ${args.positionals[0]} wait=${String(args.values.wait === true)} token=${config.api.token ?? '-'}\n`);
        return 0;
      },
    },
  },
};

describe('runCommands', () => {
  it('runs the named subcommand with its options, arguments and config, and exits with its code', async () => {
    const { io, text, exited } = fakeIo(['drain', '--wait', '10.0.0.5:80'], { FULCRUMCTL_API__TOKEN: 't0k' });
    await runCommands(cli, io);
    expect(await exited).toBe(0);
    expect(text.stdout).toBe('draining 10.0.0.5:80 wait=true token=t0k\n');
    const again = fakeIo(['drain']);
    await runCommands(cli, again.io);
    expect(await again.exited).toBe(2);
  });

  it('asks for a command when none is given', async () => {
    const { io, text, exited } = fakeIo([]);
    await runCommands(cli, io);
    expect(await exited).toBe(2);
    expect(text.stderr).toBe("fulcrumctl: no command given (one of: drain)\nTry 'fulcrumctl --help' for more information.\n");
  });

  it('--check-config prints the effective config as YAML with secrets hidden', async () => {
    const { io, text, exited } = fakeIo(['--check-config'], { FULCRUMCTL_API__TOKEN: 'sup3r-secret' });
    await runCommands(cli, io);
    expect(await exited).toBe(0);
    expect(text.stdout).toContain('# fulcrumctl: configuration OK (defaults and environment); secrets hidden\n');
    expect(text.stdout).toContain('token: "[redacted]"');
    expect(text.stdout).not.toContain('sup3r-secret');
  });

  it('warns about a variable with its prefix that names no key', async () => {
    const { io, text, exited } = fakeIo(['--check-config'], { FULCRUMCTL_NATS__URL: 'x' });
    await runCommands(cli, io);
    expect(await exited).toBe(0);
    expect(text.stderr).toBe('fulcrumctl: warning: FULCRUMCTL_NATS__URL names no configuration key; ignored\n');
  });
});

describe('runService', () => {
  const schema = serviceConfig({ statusPort: 0 });
  const app = { name: 'ipvs-agent', summary: 'test', version: '1.0.0', configSchema: schema };

  it('stops what was started and exits 1 when startup fails', async () => {
    const { io, exited } = fakeIo([]);
    const closed: string[] = [];
    await runService(
      app,
      async (svc) => {
        svc.onStop('kernel handle', () => void closed.push('kernel handle'));
        throw new Error('netlink: IPVS family not found');
      },
      io,
    );
    expect(await exited).toBe(1);
    expect(closed).toEqual(['kernel handle']);
  });

  it('runs until SIGTERM, then exits 0', async () => {
    const { io, exited, events } = fakeIo([]);
    let ready = false;
    await runService(app, async (svc) => {
      svc.onStop('domain', () => undefined);
      ready = true;
    }, io);
    expect(ready).toBe(true);
    events.emit('SIGTERM');
    expect(await exited).toBe(0);
  });
});
