import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { buildTopology, httpGetMany, modprobe, natAddresses as a, natTopology, requireLab, startNginx, tally, type Topology } from './index.js';

// The NAT shape: the director rewrites the VIP to a real server on the private segment and,
// being their gateway, rewrites the answers back.
describe('LVS-NAT in the nat topology', () => {
  let t: Topology;

  beforeAll(async () => {
    requireLab();
    await modprobe('ip_vs', 'ip_vs_rr');
    t = await buildTopology(natTopology());
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('answers the client from both real servers in turn through the VIP', async () => {
    onTestFailed(() => console.error(t.logs()));
    await Promise.all([startNginx(t, 'rs1', { body: 'rs1' }), startNginx(t, 'rs2', { body: 'rs2' })]);
    const service = `${a.vip}:80`;
    await t.sh(
      'director1',
      [`ipvsadm -A -t ${service} -s rr`, `ipvsadm -a -t ${service} -r ${a.rs1}:80 -m`, `ipvsadm -a -t ${service} -r ${a.rs2}:80 -m`].join(' && '),
    );

    const bodies = await httpGetMany(t, 'client', `http://${a.vip}/`, 10);

    expect(tally(bodies)).toEqual({ rs1: 5, rs2: 5 });
    // The client cannot reach the private segment itself: only the VIP leads there.
    await expect(t.waitForTcp('client', a.rs1, 80, 300)).rejects.toThrow(`client cannot connect to ${a.rs1}:80`);
  });
});
