import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { type ListenerRequest, send, wallMs } from './ipc.js';

// Child process: N TCP listeners on 127.0.0.1 (the real servers of the benchmark). Each accepted
// connection is closed at once. The backlog is the namespace's somaxconn: with 64, the listeners
// (one Node process for all) dropped SYNs in bursts, and a dropped SYN is a 1 s retransmit for either checker.

const [base, count] = process.argv.slice(2).map(Number) as [number, number];
const servers = new Map<number, Server>();
const onConnection = (s: Socket): void => {
  s.on('error', () => undefined);
  s.destroy();
};

await Promise.all(
  Array.from({ length: count }, (_, i) => {
    const port = base + i;
    const server = createServer(onConnection);
    servers.set(port, server);
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port, backlog: 4096 }, resolve);
    });
  }),
);
send({ cmd: 'ready', listening: servers.size });

process.on('message', (msg: ListenerRequest) => {
  if (msg.cmd === 'kill') {
    const server = servers.get(msg.port);
    servers.delete(msg.port);
    // close() stops listening at once (new connections are refused); open ones were already destroyed.
    server?.close();
    send({ cmd: 'killed', port: msg.port, at: wallMs() });
  }
});
process.on('disconnect', () => process.exit(0));
