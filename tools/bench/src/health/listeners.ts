import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type ListenerRequest, send } from './ipc.js';

// Child process: N TCP listeners on 127.0.0.1 (the real servers of the benchmark), held by Debian's
// python3 so that they cost (almost) nothing: with TCP_DEFER_ACCEPT the kernel completes the
// checker's handshake but keeps the connection out of the accept queue until data comes, and both
// checkers reset a connection without sending any, so nothing is ever accepted. (What does reach the
// queue, a FIN or data, is accepted and closed.) A Node listener process had to accept every check:
// on a loaded host it fell behind, its queues filled and dropped SYNs cost either checker 1 s retransmits.

const [base, count] = process.argv.slice(2).map(Number) as [number, number];

const LISTENERS = `
import os, resource, select, socket, sys, time
base, count = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
ep = select.epoll()
by_fd, by_port = {}, {}
for port in range(base, base + count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 1)
    s.bind(('127.0.0.1', port))
    s.listen(4096)
    s.setblocking(False)
    ep.register(s.fileno(), select.EPOLLIN)
    by_fd[s.fileno()] = s
    by_port[port] = s
ep.register(0, select.EPOLLIN)
print('ready', len(by_port), flush=True)
while True:
    for fd, _ in ep.poll():
        if fd == 0:
            line = sys.stdin.readline()
            if not line:
                sys.exit(0)
            port = int(line.split()[1])
            s = by_port.pop(port, None)
            if s is not None:
                ep.unregister(s.fileno())
                del by_fd[s.fileno()]
                s.close()
            print('killed', port, repr(time.time() * 1000), flush=True)
            continue
        s = by_fd.get(fd)
        while s is not None:
            try:
                c, _ = s.accept()
                c.close()
            except OSError:
                break
`;

const child = spawn('/usr/bin/python3', ['-c', LISTENERS, String(base), String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
child.on('exit', (code) => {
  process.stderr.write(`bench listeners: python3 exited with ${code}\n`);
  process.exit(1);
});
process.on('message', (msg: ListenerRequest) => {
  if (msg.cmd === 'kill') child.stdin.write(`kill ${msg.port}\n`);
});
process.on('disconnect', () => {
  child.removeAllListeners('exit');
  child.kill('SIGKILL');
  process.exit(0);
});

for await (const line of createInterface({ input: child.stdout })) {
  const [what, a, b] = line.split(' ');
  if (what === 'ready') send({ cmd: 'ready', listening: Number(a) });
  else if (what === 'killed') send({ cmd: 'killed', port: Number(a), at: Number(b) });
}
