import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canonicalTable, inListingOrder } from '../testing/dump-order.js';
import { formatIpvsadmList, type IpvsadmListView } from './list.js';
import { parseIpvsadmRestore } from './restore.js';
import { formatIpvsadmSave } from './save.js';

// Fixtures captured from Debian's ipvsadm 1.31 on a real IPVS table in the lab VM (see
// fixtures/ipvsadm/capture.sh): each scenario's commands (.cmds) were restored with
// ipvsadm-restore, then `ipvsadm-save -n` (.save) and `ipvsadm -Ln` in each view (.list*) were
// recorded, `--nosort` (.list-nosort) giving the order the kernel dumped the table in.

const dir = fileURLToPath(new URL('../fixtures/ipvsadm/', import.meta.url));
const scenarios = readdirSync(dir).filter((f) => f.endsWith('.cmds')).map((f) => f.slice(0, -'.cmds'.length)).sort();
const read = (name: string, ext: string) => readFileSync(join(dir, `${name}.${ext}`), 'utf8');

const views: [IpvsadmListView, string, { exact?: boolean }][] = [
  ['default', 'list', {}],
  ['stats', 'list-stats', {}],
  ['stats', 'list-stats-exact', { exact: true }],
  ['rate', 'list-rate', {}],
  ['thresholds', 'list-thresholds', {}],
  ['persistent-conn', 'list-persistent-conn', {}],
  ['tun-info', 'list-tun-info', {}],
];

it('has the captured scenarios, from ipvsadm 1.31', () => {
  expect(scenarios).toEqual(['flags', 'fwmark', 'sort', 'tunnels', 'v4-basic', 'v6']);
  expect(readFileSync(join(dir, 'ipvsadm-version.txt'), 'utf8')).toMatch(/^ipvsadm v1\.31 /);
});

describe.each(scenarios)('%s', (name) => {
  const save = read(name, 'save');
  const built = parseIpvsadmRestore(read(name, 'cmds')).table;
  const kernelOrder = inListingOrder(built, read(name, 'list-nosort'));

  it('reads ipvsadm-save output back and prints it byte for byte', () => {
    const parsed = parseIpvsadmRestore(save).table;
    expect(formatIpvsadmSave(parsed, { nosort: true })).toBe(save);
  });

  it('prints the table the commands built, in the kernel dump order, as ipvsadm-save -n did', () => {
    expect(formatIpvsadmSave(kernelOrder)).toBe(save);
  });

  it('builds from the commands the same table as from the saved output (thresholds aside)', () => {
    const fromSave = parseIpvsadmRestore(save).table;
    const withoutThresholds = built.services.map((s) => ({
      ...s,
      destinations: s.destinations.map((d) => ({ ...d, upperThreshold: 0, lowerThreshold: 0 })),
    }));
    expect(canonicalTable(fromSave)).toEqual(canonicalTable({ services: withoutThresholds }));
  });

  it.each(views)('ipvsadm -Ln view %s (%s)', (view, ext, opts) => {
    expect(formatIpvsadmList(kernelOrder, { view, ...opts })).toBe(read(name, ext));
  });

  it('ipvsadm -Ln --nosort', () => {
    expect(formatIpvsadmList(kernelOrder, { nosort: true })).toBe(read(name, 'list-nosort'));
  });
});

// Only where ipvsadm's order does not hang on the kernel's (no addresses or marks spread all
// around the 2^32 circle, as in `sort` and `fwmark`) does re-sorting a saved file change nothing.
it.each(scenarios.filter((n) => n !== 'sort' && n !== 'fwmark'))('%s: sorting a parsed save file again keeps its order', (name) => {
  const save = read(name, 'save');
  expect(formatIpvsadmSave(parseIpvsadmRestore(save).table)).toBe(save);
});
