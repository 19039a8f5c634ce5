import { addresses, type Cluster, DemoError, type Director, directors, repoRoot, until } from './cluster.js';

// The operator's part: the keepalived.conf of each director into config-api with fulcrumctl, then
// wait until the agents have made it true (VIP on the master, the table on both directors, the VIP
// on the real servers' lo).

export async function importKeepalived(c: Cluster, files: Record<Director, string>, say: (l: string) => void): Promise<void> {
  for (const d of directors) {
    say(`fulcrumctl import keepalived ${files[d].replace(repoRoot, '')} --host ${d}`);
    const out = await c.fulcrumctl(['import', 'keepalived', files[d], '--host', d]);
    for (const line of out.trimEnd().split('\n')) say(`  ${line}`);
  }
  // Each director's file brings its own priority; the imports add up to one instance with both.
  const vi = JSON.parse(await c.fulcrumctl(['get', 'vrrp-instance', 'vi-1', '--json'])) as { priorities?: Record<string, number> };
  say(`vrrp-instance vi-1 priorities ${JSON.stringify(vi.priorities)}`);
  if (vi.priorities?.director1 !== 100 || vi.priorities?.director2 !== 99) {
    throw new DemoError(`after both imports vi-1 has priorities ${JSON.stringify(vi.priorities)}, not {"director1":100,"director2":99}`);
  }
}

export async function waitReady(c: Cluster, weights: { rs1: number; rs2: number }, timeoutMs = 300_000): Promise<void> {
  await until('director1 holds the VIP', async () => ((await c.vipHolder()) === 'director1' ? true : undefined), timeoutMs, 250);
  for (const d of directors) {
    for (const rs of ['rs1', 'rs2'] as const) {
      const w = weights[rs];
      await until(`${rs} in ${d}'s table with weight ${w}`, async () => ((await c.weightOf(d, rs)) === w ? true : undefined), timeoutMs, 250);
    }
  }
  for (const rs of ['rs1', 'rs2']) {
    const onLo = async () => ((await c.t.exec(rs, ['ip', '-br', 'addr', 'show', 'dev', 'lo'])).stdout.includes(addresses.vip) ? true : undefined);
    await until(`the VIP on ${rs}'s lo`, onLo, timeoutMs, 250);
  }
}
