// In the lab guest's root namespace: carries TCP connections from LISTEN (addr:port, where qemu's
// user-mode network delivers a forwarded host port) to TARGET (addr:port). Started by stage2.sh for
// each --forward; it lives as long as the guest.
import net from 'node:net';

const [listen, target] = process.argv.slice(2).map((s) => {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
});
net
  .createServer((inbound) => {
    const outbound = net.connect(target.port, target.host);
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  })
  .listen(listen.port, listen.host);
