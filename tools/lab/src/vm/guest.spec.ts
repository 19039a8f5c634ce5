import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandLine, guestEnv, stage2Script, type GuestPlan } from './guest.js';

const plan: GuestPlan = {
  kver: '6.1.0-56-amd64',
  modulesDir: '/var/cache/fulcrum-lab/6.1.0-56-amd64/root/lib/modules/6.1.0-56-amd64',
  cwd: '/work/main',
  env: { PATH: '/usr/bin:/bin', FULCRUM_LAB: '1' },
  command: ['vitest', 'run'],
  results: '/work/main/.vitest-results',
  topologyScript: null,
};

describe('commandLine', () => {
  it('runs the argv word for word with exactly the given environment', () => {
    const argv = ['a b', "it's", '$HOME', '`x`', '*', ''];
    const line = commandLine({ PATH: process.env.PATH ?? '/usr/bin', ODD: 'x y\'"$z' }, [
      process.execPath,
      '-e',
      'process.stdout.write(JSON.stringify({ argv: process.argv.slice(1), env: process.env }))',
      ...argv,
    ]);
    const out = JSON.parse(execFileSync('sh', ['-c', line], { encoding: 'utf8', env: { LEAK: 'no' } })) as {
      argv: string[];
      env: Record<string, string>;
    };
    expect(out.argv).toEqual(argv);
    expect(out.env.ODD).toBe('x y\'"$z');
    expect(out.env.LEAK).toBeUndefined();
  });
});

describe('guestEnv', () => {
  it('passes chosen and FULCRUM_ variables, adds sbin to PATH, and marks the lab', () => {
    const env = guestEnv(
      { PATH: '/repo/node_modules/.bin:/usr/bin:/bin', CI: 'true', FULCRUM_X: '1', SECRET_TOKEN: 't', HOME: '/home/me' },
      { EXTRA: 'yes' },
      '6.1.0-56-amd64',
    );
    expect(env.PATH).toBe('/repo/node_modules/.bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin');
    expect(env).toMatchObject({ CI: 'true', FULCRUM_X: '1', EXTRA: 'yes', HOME: '/root', FULCRUM_LAB: '1', FULCRUM_LAB_KERNEL: '6.1.0-56-amd64' });
    expect(env.SECRET_TOKEN).toBeUndefined();
  });
});

describe('stage2Script', () => {
  it('says "up" only after the mounts, then mounts the results, cds, runs the command and reports its status', () => {
    const s = stage2Script(plan);
    const i = (text: string) => {
      const at = s.indexOf(text);
      expect(at, text).toBeGreaterThanOrEqual(0);
      return at;
    };
    expect(i('mount -t proc')).toBeLessThan(i('echo up > $ctl/up'));
    expect(i(`ln -sfn ${plan.modulesDir} /lib/modules/6.1.0-56-amd64`)).toBeLessThan(i('echo up > $ctl/up'));
    expect(i('echo up > $ctl/up')).toBeLessThan(i('fulcrumresults "$results"'));
    expect(i('cd /work/main')).toBeLessThan(i('env -i PATH=/usr/bin:/bin FULCRUM_LAB=1 vitest run </dev/null'));
    expect(s).toMatch(/vitest run <\/dev\/null\nfinish \$\?\n$/);
  });

  it('with pipeOutput, keeps the command\'s exit status across the pipe', () => {
    const s = stage2Script({ ...plan, pipeOutput: true });
    expect(s).toContain('{ env -i PATH=/usr/bin:/bin FULCRUM_LAB=1 vitest run </dev/null 2>&1; echo $? > $ctl/rc; } | cat');
    expect(s).toContain('finish "$(cat $ctl/rc 2>/dev/null || echo 125)"');
  });

  it('builds the topology before the command and fails the run if it cannot', () => {
    const s = stage2Script({ ...plan, results: null, topologyScript: 'set -e\nip netns add a\n' });
    expect(s).toContain("sh -e <<'FULCRUM_TOPOLOGY' || fail \"building the topology failed\"\nset -e\nip netns add a\nFULCRUM_TOPOLOGY\n");
    expect(s).not.toContain('fulcrumresults');
  });

  it('gives the shell the serial line as its terminal, sized like the host\'s', () => {
    const s = stage2Script({ ...plan, command: null, terminal: { rows: 40, cols: 120 }, banner: "it's the lab" });
    expect(s).toContain('exec 0<>/dev/ttyS0 1>&0 2>&0\nstty rows 40 cols 120');
    expect(s).toContain(`printf '%s\\n' 'it'\\''s the lab'`);
    expect(s).toContain("PS1='lab:\\w# ' setsid -c bash --norc -i\nfinish $?");
  });
});
