// The proxy under test in its own process (as in production), so the benchmark's clients don't share its
// event loop. Prints its port on stdout, stops on SIGTERM.
//   node --import tsx tools/bench/src/session/proxy-child.ts <redis-port>
import { startTestProxy } from '@fulcrum/session-store-proxy/testing';

const redisPort = Number(process.argv[2]);
if (!Number.isInteger(redisPort) || redisPort <= 0) {
  process.stderr.write('usage: proxy-child.ts <redis-port>\n');
  process.exit(2);
}
const proxy = await startTestProxy({ mode: 'direct', master: { address: '127.0.0.1', port: redisPort }, replicas: [] }, { maxClients: 10_000 });
process.stdout.write(`${proxy.port}\n`);
process.once('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
