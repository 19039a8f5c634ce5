import { describe, expect, it } from 'vitest';
import { expandBraces, globMatches, includePattern } from './include.js';
import { importKeepalivedConf } from './import.js';

describe('include globs, as keepalived (glob(3) with GLOB_BRACE) matches them', () => {
  it('expands braces in order, nested, and leaves an unbalanced one alone', () => {
    expect(expandBraces('/etc/k/{a,b}.conf')).toEqual(['/etc/k/a.conf', '/etc/k/b.conf']);
    expect(expandBraces('{x,y{1,2}}z')).toEqual(['xz', 'y1z', 'y2z']);
    expect(expandBraces('a{b')).toEqual(['a{b']);
  });

  it('matches * ? and classes within one path component, and no hidden file with a wildcard', () => {
    expect(globMatches('/etc/k/conf.d/*.conf', '/etc/k/conf.d/web.conf')).toBe(true);
    expect(globMatches('/etc/k/conf.d/*.conf', '/etc/k/conf.d/sub/web.conf')).toBe(false);
    expect(globMatches('/etc/k/conf.d/*.conf', '/etc/k/conf.d/.hidden.conf')).toBe(false);
    expect(globMatches('/etc/k/conf.d/.*.conf', '/etc/k/conf.d/.hidden.conf')).toBe(true);
    expect(globMatches('/etc/k/vs?.conf', '/etc/k/vs1.conf')).toBe(true);
    expect(globMatches('/etc/k/vs[0-4].conf', '/etc/k/vs5.conf')).toBe(false);
    expect(globMatches('/etc/k/vs[!0-4].conf', '/etc/k/vs5.conf')).toBe(true);
    expect(globMatches('/etc/k/*/x.conf', '/etc/k/a/x.conf')).toBe(true);
    expect(globMatches('/etc/k/a.conf', '/etc/k/a_conf')).toBe(false);
  });

  it('takes a relative include from the directory of the file that names it', () => {
    expect(includePattern('conf.d/*.conf', { file: '/etc/keepalived/keepalived.conf', line: 1, column: 1 })).toBe('/etc/keepalived/conf.d/*.conf');
    expect(includePattern('../x.conf', { file: '/etc/keepalived/conf.d/a.conf', line: 1, column: 1 })).toBe('/etc/keepalived/x.conf');
    expect(includePattern('/abs/x.conf', { file: '/etc/keepalived/keepalived.conf', line: 1, column: 1 })).toBe('/abs/x.conf');
  });
});

describe('importKeepalivedConf with included files', () => {
  const main = '/etc/keepalived/keepalived.conf';
  const vs = (port: number, extra = '') => `virtual_server 10.0.0.100 ${port} {\n  lb_kind DR\n  protocol TCP\n${extra}  real_server 10.0.0.21 ${port} {\n    weight 1\n  }\n}\n`;

  it('reads the matched files in sorted order, each relative to its includer, with file:line in warnings', () => {
    const files = {
      '/etc/keepalived/conf.d/b-web.conf': vs(443, '  bogus_keyword 1\n'),
      '/etc/keepalived/conf.d/a-web.conf': `${vs(80)}include ../extra/{one,two}.conf\n`,
      '/etc/keepalived/extra/one.conf': vs(8080),
      '/etc/keepalived/extra/two.conf': vs(8081),
      '/etc/keepalived/conf.d/notes.txt': 'not a config',
    };
    const r = importKeepalivedConf('global_defs {\n}\ninclude conf.d/*.conf\n', { file: main, files });
    const ports = r.objects.filter((o) => o.kind === 'virtual-service').map((o) => (o.match as { port: number }).port);
    expect(ports).toEqual([80, 8080, 8081, 443]);
    expect(r.warnings).toContainEqual(expect.objectContaining({ file: '/etc/keepalived/conf.d/b-web.conf', line: 4, message: expect.stringMatching(/bogus_keyword/) }));
  });

  it('warns, with the include line, about a pattern that matches nothing, as keepalived only logs it', () => {
    const r = importKeepalivedConf(`${vs(80)}include conf.d/*.conf\n`, { file: main, files: {} });
    expect(r.objects.filter((o) => o.kind === 'virtual-service')).toHaveLength(1);
    expect(r.warnings).toContainEqual({ file: main, line: 8, column: 1, message: 'include conf.d/*.conf: no file matched /etc/keepalived/conf.d/*.conf; nothing included' });
  });

  it('refuses a plain name that was not sent, and an error inside an included file names that file', () => {
    expect(() => importKeepalivedConf('include other.conf\n', { file: main, files: {} })).toThrow(
      /^\/etc\/keepalived\/keepalived.conf:1:1: include other.conf: \/etc\/keepalived\/other.conf was not sent with the import/,
    );
    const files = { '/etc/keepalived/bad.conf': 'virtual_server 10.0.0.100 80 {\n  lb_kind XX\n}\n' };
    expect(() => importKeepalivedConf('include bad.conf\n', { file: main, files })).toThrow(/^\/etc\/keepalived\/bad.conf:2:3: lb_kind: "XX" must be NAT, DR or TUN/);
  });

  it('stops an include loop', () => {
    expect(() => importKeepalivedConf('include keepalived.conf\n', { file: main, files: { [main]: 'include keepalived.conf\n' } })).toThrow(/nested more than 20 deep/);
  });
});
