import { describe, expect, it } from 'vitest';
import { nginxConfig, tally } from './http.js';

describe('nginxConfig', () => {
  it('is one foreground process answering every request with the body', () => {
    const conf = nginxConfig('/tmp/n', 8080, 'rs1');
    expect(conf).toContain('daemon off;\nmaster_process off;');
    expect(conf).toContain('pid /tmp/n/nginx.pid;');
    expect(conf).toContain('server { listen 8080; location / { default_type text/plain; return 200 "rs1\\n"; } }');
  });

  it('refuses a body that would need quoting in nginx.conf', () => {
    expect(() => nginxConfig('/tmp/n', 80, 'a"; }')).toThrow('nginx body "a\\"; }": use letters, digits, space and _ . : / -');
  });
});

describe('tally', () => {
  it('counts each distinct answer', () => {
    expect(tally(['rs1', 'rs2', 'rs1', 'rs1'])).toEqual({ rs1: 3, rs2: 1 });
    expect(tally([])).toEqual({});
  });
});
