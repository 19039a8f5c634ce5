import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileCheck, parseCLong } from './file.js';

const dir = mkdtempSync(join(tmpdir(), 'fulcrum-file-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function withContent(content: string): string {
  const path = join(dir, `f${(n += 1)}`);
  writeFileSync(path, content);
  return path;
}

describe('parseCLong (strtol base 0)', () => {
  it.each([
    ['42', 42],
    ['  -7\n', -7],
    ['+3 extra', 3],
    ['0x1F', 31],
    ['010', 8],
    ['0', 0],
    ['09', 0], // octal stops at 9, as strtol does
    ['abc', null],
    ['', null],
  ])('%j -> %j', (input, expected) => {
    expect(parseCLong(input)).toBe(expected);
  });
});

describe('fileCheck (keepalived FILE_CHECK)', () => {
  it.each([
    ['weight 0: zero is up', '0\n', { weight: 0 }, { ok: true }],
    ['weight 0: non-zero is down', '1\n', { weight: 0 }, { ok: false, reason: 'file', message: expect.stringMatching(/holds 1 \(with weight 0, non-zero means down\)/) }],
    ['weight 0 reverse: zero is down', '0', { weight: 0, reverse: true }, { ok: false, reason: 'file' }],
    ['weight 0 reverse: non-zero is up', '5', { weight: 0, reverse: true }, { ok: true }],
    ['default weight 1 adds the value', '10', {}, { ok: true, weightDelta: 10 }],
    ['weight 3 multiplies', '-2', { weight: 3 }, { ok: true, weightDelta: -6 }],
    ['reverse flips the sign', '4', { weight: 2, reverse: true }, { ok: true, weightDelta: -8 }],
    ['at the fault level it is down', '-2147483648', {}, { ok: false, reason: 'file', message: expect.stringMatching(/the fault level/) }],
    ['an empty file reads as 0', '', { weight: 0 }, { ok: true }],
    ['text with no number is down', 'drain', {}, { ok: false, reason: 'file', message: expect.stringMatching(/holds "drain", not a number/) }],
    ['a value beyond 32 bits is down', '99999999999', {}, { ok: false, reason: 'file', message: expect.stringMatching(/outside the 32-bit range/) }],
  ])('%s', async (_name, content, spec, expected) => {
    await expect(fileCheck({ path: withContent(content), ...spec })).resolves.toMatchObject(expected);
  });

  it('reads a missing file as 0, as keepalived does', async () => {
    await expect(fileCheck({ path: join(dir, 'absent'), weight: 0 })).resolves.toMatchObject({ ok: true });
    await expect(fileCheck({ path: join(dir, 'absent') })).resolves.toMatchObject({ ok: true, weightDelta: 0 });
  });

  it('fails (does not throw) on a path it cannot read', async () => {
    await expect(fileCheck({ path: dir })).resolves.toMatchObject({ ok: false, reason: 'file', message: expect.stringMatching(/^cannot read/) });
  });
});
